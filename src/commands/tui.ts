/**
 * `netdoctor` without a command: the live terminal UI. Every probe runs
 * concurrently under the deadline, each row fills in as its probe reports,
 * then the diagnosis: root causes first, their symptoms folded beneath,
 * details and fixes a key away. Runs are not recorded in the history (that
 * is `check`'s job, from cron); the UI only looks.
 *
 * Without a config file it opens on a first-run screen that says what the
 * machine already told netdoctor (nothing is sent until the user asks) and
 * offers `netdoctor init`. Without a terminal it prints what `check` prints
 * and exits with its code, so `netdoctor | less` and cron still make sense.
 */
import { homedir } from 'node:os';
import { configSearchPath, findConfigFile, loadConfig } from '../config/load.js';
import { readMachineFacts } from '../config/machine.js';
import type { Config } from '../config/resolve.js';
import { PROBE_NAMES, type Vantage } from '../probes/types.js';
import { lookupUser, restrictFileModes } from '../privileges.js';
import type { FirstRunFacts } from '../report/tui/layout.js';
import type { RunSource } from '../report/tui/source.js';
import { whyNotInteractive } from '../report/tui/terminal.js';
import { openPipeline, type Pipeline, type RunRequest } from '../run/pipeline.js';

export interface TuiOptions {
  config?: string;
  only?: string[];
  skip?: string[];
  vantage?: Vantage;
  deadline?: number;
  /** Auto-refresh interval, ms (`--refresh`); default `tui.refresh` from the config. */
  refresh?: number;
  /** Started as root: open what needs root (port 68), then run as this user. */
  user?: string;
  /** `--force`: the hosts probe may sweep a subnet wider than /22. */
  force?: boolean;
}

export async function run(opts: TuiOptions): Promise<number> {
  if (whyNotInteractive() !== undefined) {
    // Not a terminal: one plain run, exactly as `check` prints it (but nothing recorded or sent: this is a look, not a check).
    const { run: check } = await import('./check.js');
    return check({ config: opts.config, only: opts.only, skip: opts.skip, vantage: opts.vantage, deadline: opts.deadline, force: opts.force, history: false, graphite: false, user: opts.user });
  }
  if (opts.user !== undefined) {
    restrictFileModes();
    lookupUser(opts.user); // an unknown user is a usage error before the screen is taken over
  }

  // Config and usage errors end here, before the screen is taken over, with the usual message and exit 3.
  const file = findConfigFile({ configPath: opts.config });
  const config = loadConfig({ configPath: opts.config });
  const pipeline = await openPipeline(uiRequest(opts, config));

  const { startTui } = await import('../report/tui/index.js');
  let reason: Awaited<ReturnType<typeof startTui>>;
  try {
    reason = await startTui({
      source: liveSource(pipeline),
      info: { site: config.site, iface: config.interface, vantage: pipeline.vantage, label: config.source.file ?? 'no config: machine defaults' },
      refreshMs: opts.refresh ?? config.tui.refreshMs,
      firstRun: file ? undefined : firstRunFacts(),
    });
  } finally {
    pipeline.close();
  }
  if (reason === 'init') {
    const { run: init } = await import('./init.js');
    return init({ output: 'netdoctor.yaml' });
  }
  return 0;
}

/**
 * The run the UI's flags ask for. With --user, what needs root is opened once,
 * for every refresh, before root is dropped; without it, each run opens its own.
 */
export function uiRequest(opts: TuiOptions, config: Config): RunRequest {
  return { config, only: opts.only, skip: opts.skip, vantage: opts.vantage, deadlineMs: opts.deadline, force: opts.force, user: opts.user, prepare: opts.user !== undefined };
}

/** The UI's runs on a real network, through the pipeline; the UI only displays what this hands it. */
export function liveSource(pipeline: Pipeline): RunSource {
  const order = new Map<string, number>(PROBE_NAMES.map((n, i) => [n, i]));
  const probes = [...pipeline.selection.run, ...pipeline.selection.skipped.map((s) => s.probe)]
    .map((p) => p.name)
    .sort((a, b) => order.get(a)! - order.get(b)!);
  return { probes, run: (signal, onEvent) => pipeline.run(signal, onEvent) };
}

/** What the first-run screen shows: read from the kernel and /etc/resolv.conf, never probed. */
export function firstRunFacts(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): FirstRunFacts {
  const machine = readMachineFacts();
  const iface = machine.defaultInterface;
  const addr = iface ? machine.interfaces[iface] : undefined;
  const home = env.HOME || homedir();
  return {
    iface,
    address: addr ? `${addr.address}/${addr.prefix}` : undefined,
    gateway: machine.gateway,
    resolvers: machine.resolvers,
    searched: configSearchPath(cwd, env).map((p) => (p.startsWith(`${cwd}/`) ? `./${p.slice(cwd.length + 1)}` : p.startsWith(`${home}/`) ? `~/${p.slice(home.length + 1)}` : p)),
  };
}
