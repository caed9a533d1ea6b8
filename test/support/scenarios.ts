/**
 * The recorded scenarios of fixtures/scenarios/, for tests: each one's saved
 * run and its config.yaml resolved against the pretend machine of
 * test/support/config.ts, so no diagnosis depends on this machine's
 * interfaces or resolvers. The directory and the names come from
 * src/commands/diagnose.ts, as `demo` and the benchmarks find them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { scenarioNames, scenariosDir } from '../../src/commands/diagnose.js';
import type { Config } from '../../src/config/resolve.js';
import { readSavedRun, type SavedRun } from '../../src/report/json.js';
import { configFrom } from './config.js';

export const SCENARIOS_DIR: string = scenariosDir();
/** Every scenario with a recorded run, sorted. */
export const SCENARIO_NAMES: string[] = scenarioNames(SCENARIOS_DIR);

export interface RecordedScenario {
  name: string;
  dir: string;
  config: Config;
  run: SavedRun;
}

/** A scenario's run and config; `yamlExtra` is appended to its config.yaml (a test's own variation). */
export function recordedScenario(name: string, yamlExtra = ''): RecordedScenario {
  const dir = join(SCENARIOS_DIR, name);
  return {
    name,
    dir,
    config: configFrom(readFileSync(join(dir, 'config.yaml'), 'utf8') + yamlExtra),
    run: readSavedRun(join(dir, 'observations.json')),
  };
}
