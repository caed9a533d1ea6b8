import { UsageError } from '../shared/errors.js';

/** Placeholder until the issue that builds `netdoctor lab` lands. */
export async function run(_opts: Record<string, unknown>): Promise<number> {
  throw new UsageError('`netdoctor lab` is not built yet in this version.', 'Run `netdoctor --help` for what is available.');
}
