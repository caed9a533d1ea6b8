/**
 * Metrics to Graphite in carbon's plaintext protocol (`path value timestamp\n`)
 * over one TCP connection per run. What cannot be delivered goes to the spool
 * in the history database and is sent, with its original timestamps, by a
 * later run — first, before that run's own lines. Carbon keeps one value per
 * timestamp slot, so a line delivered twice (a connection reset after carbon
 * read part of a batch) overwrites itself instead of duplicating.
 *
 * A Graphite outage never changes the check's verdict and never holds the
 * check more than a second past its deadline.
 */
import { connect } from 'node:net';
import pRetry, { AbortError } from 'p-retry';
import type { Config } from '../config/resolve.js';
import type { Spool } from '../history/spool.js';
import type { CheckReport } from '../report/json.js';
import { errorMessage } from '../shared/errors.js';
import { SinkFailure, type FinishedRun, type Sink } from './types.js';

const STATUS_VALUE = { ok: 0, warning: 1, critical: 2, unknown: 3 } as const;

/** A path segment carbon will not split or reject: dots become `_`, as does anything but [A-Za-z0-9_-]. */
export function metricSegment(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]/g, '_') || '_';
}

/** Every value of every observation, plus the run's duration, status and finding counts. */
export function metricLines(report: CheckReport, prefix: string): string[] {
  const ts = Math.floor(Date.parse(report.startedAt) / 1000);
  const lines: string[] = [];
  // One point per path: the VPN probe reports one handshake under each role that points at its endpoint
  // (pi-vpn's address and the forward's target, both 192.168.1.20), with the same values; sent twice,
  // carbon would only overwrite the first.
  const sent = new Set<string>();
  const add = (path: string, value: number) => {
    if (!Number.isFinite(value) || sent.has(path)) return;
    sent.add(path);
    lines.push(`${prefix}.${path} ${value} ${ts}`);
  };
  for (const o of report.observations) {
    for (const [name, value] of Object.entries(o.values)) {
      add(`${metricSegment(o.probe)}.${metricSegment(o.subject)}.${metricSegment(name)}`, value);
    }
  }
  add('check.duration_ms', Math.round(report.durationMs));
  add('check.status', STATUS_VALUE[report.status]);
  const counts: Record<string, number> = { critical: 0, warning: 0, unknown: 0, info: 0 };
  for (const f of report.findings) counts[f.severity] = (counts[f.severity] ?? 0) + 1;
  for (const [severity, n] of Object.entries(counts)) add(`findings.${severity}`, n);
  return lines;
}

export interface CarbonAddress {
  host: string;
  port: number;
}

export function parseCarbonUrl(url: string): CarbonAddress {
  const u = new URL(url);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port ? Number(u.port) : 2003 };
}

/** Writes the lines on one connection and resolves once carbon has closed it cleanly. */
export function deliver(addr: CarbonAddress, lines: readonly string[], timeoutMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('aborted'));
    const socket = connect({ host: addr.host, port: addr.port });
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      if (err) reject(err);
      else resolve();
    };
    const onAbort = () => finish(new Error('aborted'));
    const timer = setTimeout(() => finish(new Error(`no answer from ${addr.host}:${addr.port} within ${timeoutMs} ms`)), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('error', (err) => finish(err));
    socket.on('connect', () => {
      socket.end(lines.map((l) => `${l}\n`).join(''));
    });
    // `close` without error after our `end`: carbon read everything and hung up.
    socket.on('close', (hadError) => finish(hadError ? new Error('connection closed with an error') : undefined));
    socket.resume();
  });
}

export interface GraphiteOutcome {
  /** Lines carbon accepted, this run's and spooled ones. */
  delivered: number;
  /** Lines of earlier runs that were in the spool and are now delivered. */
  fromSpool: number;
  /** This run's lines that went to the spool instead. */
  spooled: number;
  /** Oldest lines dropped because the spool was full. */
  dropped: number;
  error?: string;
}

/** How many spooled lines go out with one run at most; the rest follow on later runs. */
const SPOOL_BATCH = 50_000;

export async function sendMetrics(opts: {
  url: string;
  lines: readonly string[];
  /** Where undelivered lines wait for the next run (the history's); without one they are lost. */
  spool?: Spool;
  spoolMax: number;
  /** Epoch ms by which everything must be over, delivered or spooled. */
  until: number;
  signal?: AbortSignal;
}): Promise<GraphiteOutcome> {
  const addr = parseCarbonUrl(opts.url);
  const backlog = opts.spool ? opts.spool.oldest(SPOOL_BATCH) : { lines: [], upToId: 0 };
  const batch = [...backlog.lines, ...opts.lines];
  const outcome: GraphiteOutcome = { delivered: 0, fromSpool: 0, spooled: 0, dropped: 0 };
  const budget = () => opts.until - Date.now();
  try {
    if (budget() <= 0) throw new Error('no time left before the deadline');
    await pRetry(() => deliver(addr, batch, Math.max(50, Math.min(3000, budget())), opts.signal), {
      retries: 2,
      minTimeout: 100,
      maxTimeout: 400,
      maxRetryTime: Math.max(0, budget()),
      signal: opts.signal,
      shouldRetry: () => budget() > 100,
      onFailedAttempt: ({ error }) => {
        if (budget() <= 100) throw new AbortError(error.message);
      },
    });
    if (backlog.upToId) opts.spool?.remove(backlog.upToId);
    outcome.delivered = batch.length;
    outcome.fromSpool = backlog.lines.length;
  } catch (err) {
    outcome.error = `${addr.host}:${addr.port}: ${errorMessage(err)}`;
    if (opts.spool) {
      outcome.dropped = opts.spool.add(opts.lines, opts.spoolMax);
      outcome.spooled = opts.lines.length;
    }
  }
  return outcome;
}

/** The Graphite sink: the run's metrics to carbon, undelivered ones to the spool for the next run. */
export class GraphiteSink implements Sink {
  readonly name = 'graphite';

  constructor(
    private readonly settings: NonNullable<Config['graphite']>,
    /** The run's deadline, ms after its start: an outage may hold the check at most a second past it. */
    private readonly deadlineMs: number,
    private readonly spoolOf: () => Spool | undefined,
  ) {}

  async deliver({ report }: FinishedRun, signal: AbortSignal): Promise<void> {
    const deadline = Date.parse(report.startedAt) + this.deadlineMs;
    const spool = this.spoolOf();
    const outcome = await sendMetrics({
      url: this.settings.url,
      lines: metricLines(report, this.settings.prefix),
      spool,
      spoolMax: this.settings.spoolMax,
      until: Math.max(deadline, Date.now()) + 1000,
      signal,
    });
    const lines: string[] = [];
    if (outcome.error) {
      lines.push(`Graphite unreachable (${outcome.error}); ${spool ? `${outcome.spooled} metrics spooled for the next run` : 'metrics of this run are lost (no history to spool them in)'}`);
    }
    if (outcome.dropped > 0) lines.push(`the metrics spool is full (graphite.spoolMax ${this.settings.spoolMax}): dropped the ${outcome.dropped} oldest lines`);
    if (lines.length > 0) throw new SinkFailure(lines);
  }
}
