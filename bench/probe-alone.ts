/**
 * One probe alone under netdoctor's runner, in a fresh node process inside a
 * lab node: the benchmark row that isolates a probe from the CLI around it
 * (`check` adds the config search, the history, the output). It prints the
 * probe's observations as a JSON list.
 */
import { resolve } from 'node:path';

const SCRIPT = `
const [configPath, root, name] = process.argv.slice(1);
const { loadConfig } = await import(root + '/dist/config/load.js');
const { runProbes } = await import(root + '/dist/probes/runner.js');
const probe = (await import(root + '/dist/probes/' + name + '.js'))[name + 'Probe'];
const config = loadConfig({ configPath });
const r = await runProbes({ config, selection: { run: [probe], skipped: [] }, vantage: 'inside', deadlineMs: config.deadlineMs });
process.stdout.write(JSON.stringify(r.observations));
`;

/** The command for `lab.exec(node, …)`: probe `name` (`dns`, `vpn`…) from the built dist/ with the config at `configPath`. */
export function probeAloneArgv(name: string, configPath: string, root: string = resolve('.')): string[] {
  return [process.execPath, '--input-type=module', '-e', SCRIPT, configPath, root, name];
}
