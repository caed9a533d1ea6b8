/**
 * The `--json` document of DESIGN.md, and reading it (or a bare observations
 * file from fixtures/) back, so any incident can be replayed through the
 * engine with `netdoctor diagnose FILE`.
 */
import { readFileSync } from 'node:fs';
import type { Config } from '../config/resolve.js';
import type { Diagnosis, Finding } from '../diagnose/types.js';
import { PROBE_NAMES, type Observation, type RunResult, type Vantage } from '../probes/types.js';
import { UserError } from '../shared/errors.js';
import { redactUrl } from '../shared/redact.js';
import { redactChannel } from '../sinks/notify/redact.js';
import type { RunStatus } from '../shared/exit-codes.js';

/**
 * The config a run was judged against, carried in its `--json` so a replay
 * elsewhere judges it the same way. Local-only parts (where the history
 * lives, where the config came from) are left out and URLs are redacted.
 */
export type RunConfig = Omit<Config, 'source' | 'history'>;

export function runConfigOf(config: Config): RunConfig {
  const { source: _source, history: _history, ...rest } = config;
  return {
    ...rest,
    ddns: { ...rest.ddns, publicIp: rest.ddns.publicIp.map(redactUrl) },
    ...(rest.graphite ? { graphite: { ...rest.graphite, url: redactUrl(rest.graphite.url) } } : {}),
    notify: { ...rest.notify, channels: rest.notify.channels.map(redactChannel) },
  };
}

/** A config carried by a saved run, made whole again for the engine. */
export function configFromRun(saved: RunConfig, file: string): Config {
  // Runs saved before notify/serve existed carry neither; a replay notifies nobody.
  return {
    ...saved,
    notify: saved.notify ?? { minIntervalMs: 0, channels: [] },
    serve: saved.serve ?? { listen: '', intervalMs: 0 },
    history: { path: '', keepMs: 0 },
    source: { file, fromMachine: [] },
  };
}

export interface CheckReport {
  netdoctor: string;
  site: string;
  vantage: Vantage;
  startedAt: string;
  durationMs: number;
  status: RunStatus;
  observations: Observation[];
  findings: Finding[];
  /** What the run was judged against (see {@link RunConfig}). */
  config?: RunConfig;
}

export function buildCheckReport(version: string, config: Config, run: RunResult, diagnosis: Diagnosis): CheckReport {
  return {
    netdoctor: version,
    site: config.site,
    vantage: run.vantage,
    startedAt: run.startedAt,
    durationMs: run.durationMs,
    status: diagnosis.status,
    observations: run.observations,
    findings: diagnosis.findings,
    config: runConfigOf(config),
  };
}

/**
 * Reads observations saved earlier: a `check --json` document, a fixture's
 * `observations.json` (a run: `{startedAt, durationMs, vantage, observations}`)
 * or a bare array. `-` reads standard input.
 */
export function readSavedRun(path: string): SavedRun {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, 'Give a file written by `netdoctor check --json`.');
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${path} is not JSON (${(err as Error).message})`, 'Give a file written by `netdoctor check --json`.');
  }
  return parseSavedRun(doc, path);
}

export function parseSavedRun(doc: unknown, name = 'input'): SavedRun {
  const obj = (Array.isArray(doc) ? { observations: doc } : doc) as Partial<CheckReport> | null;
  if (!obj || typeof obj !== 'object' || !Array.isArray(obj.observations)) {
    throw new UserError(`${name} has no "observations" list`, 'Give a file written by `netdoctor check --json`, or a list of observations.');
  }
  obj.observations.forEach((o, i) => {
    const bad = observationProblem(o);
    if (bad) throw new UserError(`${name}: observations[${i}] ${bad}`);
  });
  return {
    startedAt: obj.startedAt ?? obj.observations[0]?.at ?? new Date(0).toISOString(),
    durationMs: obj.durationMs ?? 0,
    vantage: obj.vantage === 'outside' ? 'outside' : 'inside',
    observations: obj.observations,
    site: obj.site,
    ...(isRunConfig(obj.config) ? { config: obj.config } : {}),
  };
}

export type SavedRun = RunResult & { site?: string; config?: RunConfig };

/** Enough of a config's shape to judge a run with; anything else is ignored and the local config used. */
function isRunConfig(c: unknown): c is RunConfig {
  if (!c || typeof c !== 'object') return false;
  const r = c as Record<string, unknown>;
  const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  return typeof r.site === 'string' && Array.isArray(r.hosts) && [r.router, r.dhcp, r.dns, r.wan, r.ddns, r.vpn].every(isObject);
}

function observationProblem(o: unknown): string | undefined {
  if (!o || typeof o !== 'object') return 'is not an object';
  const r = o as Record<string, unknown>;
  for (const k of ['id', 'check', 'subject', 'reason', 'summary'] as const) {
    if (typeof r[k] !== 'string') return `has no text "${k}"`;
  }
  if (!PROBE_NAMES.includes(r.probe as never)) return `has probe ${JSON.stringify(r.probe)} (expected one of ${PROBE_NAMES.join(', ')})`;
  if (!['ok', 'fail', 'error', 'skipped'].includes(r.status as string)) return `has status ${JSON.stringify(r.status)} (expected ok, fail, error or skipped)`;
  if (r.labels !== undefined && (typeof r.labels !== 'object' || r.labels === null)) return 'has labels that are not a mapping';
  if (r.values !== undefined && (typeof r.values !== 'object' || r.values === null)) return 'has values that are not a mapping';
  r.labels ??= {};
  r.values ??= {};
  r.durationMs ??= 0;
  r.at ??= new Date(0).toISOString();
  return undefined;
}
