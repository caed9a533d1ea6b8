/**
 * `netdoctor check`: what cron, Nagios/Icinga and a VPS outside the LAN run.
 * All selected probes once, concurrently, under one deadline; the diagnosis;
 * a short summary or `--json`; the run into the history; metrics to Graphite;
 * exit 0/1/2/3. The sinks only consume: a broken history disk or Graphite
 * server is reported on stderr and changes neither the verdict nor the exit
 * code.
 */
import { loadConfig } from '../config/load.js';
import { defaultHistoryPath, defaultStateDir, type Config } from '../config/resolve.js';
import { diagnose } from '../diagnose/index.js';
import { prepareProbes, releasePrepared } from '../probes/prepare.js';
import { probes as registry } from '../probes/registry.js';
import { runProbes, selectProbes, type Selection } from '../probes/runner.js';
import type { Prepared, ProbeName, RunEvent, RunResult, Vantage } from '../probes/types.js';
import { dropPrivileges, lookupUser, restrictFileModes } from '../privileges.js';
import { sendMetrics, metricLines } from '../report/graphite.js';
import { History } from '../report/history.js';
import { buildCheckReport, type CheckReport } from '../report/json.js';
import { colorWanted } from '../report/tui/terminal.js';
import { renderText } from '../report/text.js';
import { formatDuration } from '../shared/duration.js';
import { storageProblem } from '../shared/disk.js';
import { ConfigError, errorMessage } from '../shared/errors.js';
import { ExitCode, exitCodeFor } from '../shared/exit-codes.js';
import { VERSION } from '../version.js';

export interface CheckOptions {
  config?: string;
  json?: boolean;
  only?: string[];
  skip?: string[];
  vantage?: Vantage;
  deadline?: number;
  verbose?: boolean;
  quiet?: boolean;
  fromJson?: string;
  /** commander's `--no-history` / `--no-graphite` give `history: false` / `graphite: false`. */
  history?: boolean;
  graphite?: boolean;
  force?: boolean;
  user?: string;
}

/** The config; with --json a bad one also prints `{status: "unknown", error}` on stdout, so a JSON consumer always gets an object. */
function loadConfigFor(opts: CheckOptions): ReturnType<typeof loadConfig> {
  try {
    return loadConfig({ configPath: opts.config });
  } catch (err) {
    if (opts.json && err instanceof ConfigError) {
      const issues = err.issues.map((i) => ({ key: i.path, ...(i.file ? { file: i.file } : {}), ...(i.line ? { line: i.line } : {}), ...(i.value !== undefined ? { value: i.value } : {}), message: i.message }));
      process.stdout.write(`${JSON.stringify({ netdoctor: VERSION, status: 'unknown', error: { kind: 'config', message: err.message, issues } }, null, 2)}\n`);
    }
    throw err;
  }
}

export async function run(opts: CheckOptions): Promise<number> {
  // A replay is the diagnose command's job: nothing is probed, recorded or sent.
  if (opts.fromJson !== undefined) {
    const { run: replay } = await import('./diagnose.js');
    return replay({ fromJson: opts.fromJson, json: opts.json, config: opts.config, verbose: opts.verbose, quiet: opts.quiet });
  }
  // Before anything is written: the history (and its -wal/-shm), the DHCP MAC and reports are for their owner only.
  restrictFileModes();
  let config = loadConfigFor(opts);
  // An unknown --user or probe name is a usage error before anything is opened.
  if (opts.user !== undefined) lookupUser(opts.user);
  const selection = selectProbes(registry, { only: opts.only, skip: opts.skip, vantage: opts.vantage ?? 'inside' });
  const interrupt = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => interrupt.abort(new Error(sig));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // What needs root (port 68) is opened first; then root is dropped; only then is the network read.
  const { prepared } = await prepareProbes(selection.run, { config, vantage: opts.vantage ?? 'inside', options: probeOptions(opts), signal: interrupt.signal });
  try {
    if (opts.user !== undefined) config = becomeUser(opts.user, config);
    const run = await probeOnce(config, opts, selection, prepared, interrupt.signal);
    releasePrepared(prepared);
    if (interrupt.signal.aborted) {
      // An interrupted run is not a verdict: nothing is recorded or sent, so the history holds only whole runs.
      process.stderr.write(`netdoctor: interrupted (${(interrupt.signal.reason as Error).message}); nothing recorded\n`);
      return ExitCode.unknown;
    }
    const report = buildCheckReport(VERSION, config, run, diagnose(run.observations, config));
    const code = exitCodeFor(report.status);

    if (!opts.quiet || report.status !== 'ok') {
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : renderText(report, { verbose: opts.verbose, color: colorWanted(process.stdout) }));
    }
    await sinks(config, opts, report, interrupt.signal);
    return code;
  } finally {
    releasePrepared(prepared);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function probeOptions(opts: CheckOptions): Record<string, unknown> {
  return { force: opts.force ?? false };
}

/**
 * Drops root for `--user`. The history's default place follows the user
 * (it was worked out from root's HOME); a history.path set in the config
 * stays, and must be writable by that user.
 */
function becomeUser(name: string, config: Config): Config {
  const before = defaultHistoryPath(defaultStateDir(process.env, process.getuid?.()));
  const outcome = dropPrivileges(name);
  if (outcome.note) process.stderr.write(`netdoctor: ${outcome.note}\n`);
  if (!outcome.dropped || config.history.path !== before) return config;
  // Only the user's HOME: root's XDG_STATE_HOME would point the user back at a directory it cannot write.
  const after = defaultStateDir({ HOME: outcome.user.home ?? '/nonexistent' }, process.getuid?.());
  return { ...config, history: { ...config.history, path: defaultHistoryPath(after) } };
}

async function probeOnce(config: Config, opts: CheckOptions, selection: Selection, prepared: ReadonlyMap<ProbeName, Prepared>, signal: AbortSignal): Promise<RunResult> {
  const vantage = opts.vantage ?? 'inside';
  const progress = process.stderr.isTTY && !opts.quiet ? progressLine(selection.run.map((p) => p.name)) : undefined;
  try {
    return await runProbes({
      config,
      selection,
      vantage,
      deadlineMs: opts.deadline ?? config.deadlineMs,
      signal,
      onEvent: progress,
      options: probeOptions(opts),
      prepared,
    });
  } finally {
    progress?.({ type: 'run-end', durationMs: 0 });
  }
}

/** One self-rewriting line on a terminal's stderr; silent under cron (not a TTY). */
function progressLine(names: string[]): (e: RunEvent) => void {
  const started = Date.now();
  const pending = new Set(names);
  let timer: NodeJS.Timeout | undefined;
  const draw = () => {
    const waiting = [...pending].join(', ');
    process.stderr.write(`\r\x1b[2Kchecking ${names.length - pending.size}/${names.length} done, ${formatDuration(Date.now() - started)}${waiting ? ` — waiting for ${waiting}` : ''}`);
  };
  return (e) => {
    if (e.type === 'run-start') {
      draw();
      timer = setInterval(draw, 250);
    } else if (e.type === 'probe-end') {
      pending.delete(e.probe);
      draw();
    } else if (e.type === 'run-end') {
      clearInterval(timer);
      process.stderr.write('\r\x1b[2K');
    }
  };
}

async function sinks(config: Config, opts: CheckOptions, report: CheckReport, signal: AbortSignal): Promise<void> {
  const warn = (line: string) => process.stderr.write(`netdoctor: ${line}\n`);
  let history: History | undefined;
  if (opts.history !== false) {
    try {
      history = History.open(config.history.path, { busyTimeoutMs: 1000 });
      history.recordRun(report);
      history.prune(config.history.keepMs);
    } catch (err) {
      // The error that reaches us can mislead (ENOENT for a read-only disk, "disk I/O error" for a full one): ask the disk.
      const why = storageProblem(config.history.path);
      warn(`the run was not recorded in the history: ${errorMessage(err)}${why ? ` — ${why}` : ''}`);
    }
  }
  try {
    if (config.graphite && opts.graphite !== false) {
      const deadline = Date.parse(report.startedAt) + (opts.deadline ?? config.deadlineMs);
      const outcome = await sendMetrics({
        url: config.graphite.url,
        lines: metricLines(report, config.graphite.prefix),
        history,
        spoolMax: config.graphite.spoolMax,
        // A Graphite outage may hold the check at most a second past its deadline.
        until: Math.max(deadline, Date.now()) + 1000,
        signal,
      });
      if (outcome.error) {
        warn(`Graphite unreachable (${outcome.error}); ${history ? `${outcome.spooled} metrics spooled for the next run` : 'metrics of this run are lost (no history to spool them in)'}`);
      }
      if (outcome.dropped > 0) warn(`the metrics spool is full (graphite.spoolMax ${config.graphite.spoolMax}): dropped the ${outcome.dropped} oldest lines`);
    }
  } finally {
    history?.close();
  }
}
