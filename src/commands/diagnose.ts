/**
 * `netdoctor diagnose FILE`: replay an incident. Reads observations saved by
 * `check --json` (or a fixture's observations.json, or `-` for stdin), runs
 * the rule engine on them and prints the diagnosis — nothing is probed, sent
 * or recorded. A saved run inside a scenario directory of fixtures/ is read
 * with the config.yaml beside it unless --config says otherwise, so
 * `netdoctor diagnose fixtures/scenarios/unplugged-pi/observations.json`
 * shows exactly what the tests check.
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/resolve.js';
import { diagnose } from '../diagnose/index.js';
import { buildCheckReport, configFromRun, readSavedRun } from '../report/json.js';
import { VERSION } from '../version.js';
import { renderText } from '../report/text.js';
import { colorWanted } from '../report/color.js';
import { exitCodeFor } from '../shared/exit-codes.js';
import { UserError } from '../shared/errors.js';
import { didYouMean } from '../shared/suggest.js';

export interface DiagnoseOptions {
  fromJson: string;
  json?: boolean;
  config?: string;
  verbose?: boolean;
  /** As check's --quiet (a replay through `check --from-json`): nothing printed when all is well. */
  quiet?: boolean;
}

export async function run(opts: DiagnoseOptions): Promise<number> {
  const run = readSavedRun(opts.fromJson);
  // The config the run was judged against: --config if given, else the scenario's beside it,
  // else the one the run carries, else this machine's.
  const configPath = opts.config ?? scenarioConfigFor(opts.fromJson);
  const config = configPath === undefined && run.config ? configFromRun(run.config, opts.fromJson) : loadConfig({ configPath });
  const report = buildCheckReport(VERSION, config, run, diagnose(run.observations, config));
  if (run.site && !opts.config) report.site = run.site;
  if (!opts.quiet || report.status !== 'ok') {
    process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : renderText(report, { verbose: opts.verbose, color: colorWanted() }));
  }
  return exitCodeFor(report.status);
}

/** The config.yaml beside a saved run that sits in a scenario directory (next to its expected.json), if any. */
export function scenarioConfigFor(file: string): string | undefined {
  if (file === '-') return undefined;
  const dir = dirname(resolve(file));
  const config = join(dir, 'config.yaml');
  return existsSync(config) && existsSync(join(dir, 'expected.json')) ? config : undefined;
}

/**
 * fixtures/scenarios of this installation, found by walking up from this
 * module (src/commands, dist/commands, .bench-build/src/commands all work).
 */
export function scenariosDir(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    const candidate = join(dir, 'fixtures', 'scenarios');
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) throw new UserError('cannot find fixtures/scenarios next to this installation of netdoctor');
    dir = up;
  }
}

export function scenarioNames(dir: string = scenariosDir()): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, 'observations.json')))
    .map((e) => e.name)
    .sort();
}

/** A recorded scenario's run and config, for `demo` and the benchmark. */
export function loadScenario(name: string, dir: string = scenariosDir()): { name: string; config: Config; run: ReturnType<typeof readSavedRun> } {
  const names = scenarioNames(dir);
  if (!names.includes(name)) {
    throw new UserError(`no scenario ${JSON.stringify(name)}${didYouMean(name, names)}; scenarios are: ${names.join(', ')}`);
  }
  const path = join(dir, name);
  return {
    name: basename(path),
    run: readSavedRun(join(path, 'observations.json')),
    config: loadConfig({ configPath: join(path, 'config.yaml') }),
  };
}
