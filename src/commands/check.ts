/**
 * `netdoctor check`: what cron, Nagios/Icinga and a VPS outside the LAN run.
 * All selected probes once, concurrently, under one deadline; the diagnosis;
 * a short summary or `--json`; the run into the history; metrics to Graphite;
 * exit 0/1/2/3. The sinks only consume: a broken history disk or Graphite
 * server is reported on stderr and changes neither the verdict nor the exit
 * code.
 */
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/resolve.js';
import type { RunEvent, Vantage } from '../probes/types.js';
import { restrictFileModes } from '../privileges.js';
import { colorWanted } from '../report/color.js';
import { buildCheckReport } from '../report/json.js';
import { renderText } from '../report/text.js';
import { openPipeline, type Pipeline, type PipelineRun, type RunRequest } from '../run/pipeline.js';
import { deliverToSinks } from '../sinks/deliver.js';
import { GraphiteSink } from '../sinks/graphite.js';
import { HistorySink } from '../sinks/history.js';
import { NotifySink } from '../sinks/notify-sink.js';
import { TextfileSink } from '../sinks/textfile.js';
import type { Sink } from '../sinks/types.js';
import { formatDuration } from '../shared/duration.js';
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
  /** `--prometheus-textfile DIR`: write netdoctor.prom there (overrides `prometheus.textfile`). */
  prometheusTextfile?: string;
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
  const loaded = loadConfigFor(opts);
  const interrupt = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => interrupt.abort(new Error(sig));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let pipeline: Pipeline | undefined;
  try {
    // An unknown --user or probe name is a usage error before anything is opened.
    pipeline = await openPipeline({ ...request(opts, loaded), signal: interrupt.signal });
    const { config } = pipeline;
    const progress = process.stderr.isTTY && !opts.quiet ? progressLine(pipeline.selection.run.map((p) => p.name)) : undefined;
    let outcome: PipelineRun;
    try {
      outcome = await pipeline.run(interrupt.signal, progress);
    } finally {
      progress?.({ type: 'run-end', durationMs: 0 });
    }
    pipeline.close();
    if (interrupt.signal.aborted) {
      // An interrupted run is not a verdict: nothing is recorded or sent, so the history holds only whole runs.
      process.stderr.write(`netdoctor: interrupted (${(interrupt.signal.reason as Error).message}); nothing recorded\n`);
      return ExitCode.unknown;
    }
    const report = buildCheckReport(VERSION, config, outcome.result, outcome.diagnosis);
    const code = exitCodeFor(report.status);

    if (!opts.quiet || report.status !== 'ok') {
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : renderText(report, { verbose: opts.verbose, color: colorWanted(process.stdout), perfdata: true }));
    }
    await deliverToSinks({ config, report, run: outcome.result }, sinksFor(config, opts), interrupt.signal);
    return code;
  } finally {
    pipeline?.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** The run check's flags ask for. */
function request(opts: CheckOptions, config: Config): RunRequest {
  return { config, only: opts.only, skip: opts.skip, vantage: opts.vantage, deadlineMs: opts.deadline, force: opts.force, user: opts.user };
}

/** The outputs a finished run goes to, in order: the history first (Graphite spools into it). */
function sinksFor(config: Config, opts: CheckOptions): Sink[] {
  const history = opts.history !== false ? new HistorySink(config.history) : undefined;
  const graphite = config.graphite && opts.graphite !== false
    ? new GraphiteSink(config.graphite, opts.deadline ?? config.deadlineMs, () => history?.spool())
    : undefined;
  const deadlineMs = opts.deadline ?? config.deadlineMs;
  const notify = config.notify.channels.length > 0 && opts.history !== false ? new NotifySink(() => history?.database(), deadlineMs) : undefined;
  const textfileDir = opts.prometheusTextfile ?? config.prometheus?.textfile;
  const textfile = textfileDir !== undefined ? new TextfileSink(textfileDir) : undefined;
  return [history, graphite, notify, textfile].filter((s): s is NonNullable<typeof s> => s !== undefined);
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
