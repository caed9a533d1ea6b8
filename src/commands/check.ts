import { loadConfig } from '../config/load.js';
import { UsageError } from '../shared/errors.js';

/** Placeholder until the `check` issue lands: validates the config, then says so. */
export async function run(opts: Record<string, unknown>): Promise<number> {
  loadConfig({ configPath: opts.config as string | undefined });
  throw new UsageError('`netdoctor check` is not built yet in this version.', 'Run `netdoctor --help` for what is available.');
}
