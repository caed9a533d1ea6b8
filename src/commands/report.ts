/**
 * `netdoctor report`: the post-incident write-up, from the run history that
 * `check` records. `--list` shows the incidents; a report tells one (the
 * last by default, `--incident ID`, or every one in `--since 24h`) as
 * Markdown, one self-contained HTML file, or JSON. Only reads the history;
 * the output file is written whole or not at all.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { loadConfig } from '../config/load.js';
import { renderHtml, renderIncidentListHtml } from '../report/html.js';
import { History } from '../history/history.js';
import {
  buildIncidentReport,
  findIncidents,
  type HistoryInfo,
  type IncidentListDocument,
  type IncidentSummary,
  type ReportDocument,
} from '../report/incident.js';
import { renderIncidentListMarkdown, renderMarkdown } from '../report/markdown.js';
import { formatDuration } from '../shared/duration.js';
import { writeFileAtomic } from '../shared/disk.js';
import { UsageError, UserError, errorMessage } from '../shared/errors.js';
import { ExitCode } from '../shared/exit-codes.js';
import { plural } from '../shared/text.js';
import { humanTime } from '../shared/time.js';
import { VERSION } from '../version.js';

export type ReportFormat = 'md' | 'html' | 'json';

export interface ReportOptions {
  config?: string;
  list?: boolean;
  incident?: string;
  last?: boolean;
  /** ms */
  since?: number;
  format?: ReportFormat;
  output?: string;
  /** For tests: the time `--since` counts back from. */
  now?: number;
}

/** How many incidents an unknown-id error names before pointing at --list. */
const NAMED_IN_ERRORS = 10;

export async function run(opts: ReportOptions): Promise<number> {
  const format: ReportFormat = opts.format ?? 'md';
  if (!['md', 'html', 'json'].includes(format)) throw new UsageError(`--format ${JSON.stringify(format)} is not a report format (expected md, html or json)`);
  const chosen = [opts.incident !== undefined && '--incident', opts.last && '--last', opts.since !== undefined && '--since'].filter(Boolean);
  if (opts.list && (opts.incident !== undefined || opts.last)) {
    throw new UsageError(`--list lists the incidents; it does not take ${chosen.filter((c) => c !== '--since').join(' or ')}`, 'Use --list alone (or with --since 7d), then report on one with --incident ID.');
  }
  if (chosen.length > 1) throw new UsageError(`choose one of --incident, --last and --since (got ${chosen.join(' and ')})`);

  const config = loadConfig({ configPath: opts.config });
  const path = config.history.path;
  const history = openHistory(path);
  try {
    const info = historyInfo(history, path);
    if (info.runs === 0) {
      throw new UserError(`the run history ${path} holds no runs yet: there is nothing to report on`, CHECK_HINT);
    }
    const incidents = findIncidents(history);
    const now = opts.now ?? Date.now();
    const inStretch = (i: IncidentSummary) => Date.parse(i.recoveredAt ?? i.lastSeenAt) >= now - opts.since! && Date.parse(i.startedAt) <= now;
    const generatedAt = new Date().toISOString();

    if (opts.list) {
      const listed = opts.since !== undefined ? incidents.filter(inStretch) : incidents;
      const doc: IncidentListDocument = { netdoctor: VERSION, generatedAt, history: info, incidents: listed };
      const text = format === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : format === 'html' ? renderIncidentListHtml(doc) : renderIncidentListMarkdown(doc);
      writeOutput(text, opts.output, `the list of ${plural(listed.length, 'incident')}`);
      return ExitCode.ok;
    }

    let selected: IncidentSummary[];
    let selection: string;
    if (opts.incident !== undefined) {
      selected = [pickIncident(history, incidents, opts.incident, path)];
      selection = `incident ${selected[0].id}`;
    } else if (opts.since !== undefined) {
      selected = incidents.filter(inStretch);
      selection = `the last ${formatDuration(opts.since)}`;
    } else {
      selected = incidents.slice(-1);
      selection = 'the last incident';
    }
    const doc: ReportDocument = {
      netdoctor: VERSION,
      generatedAt,
      history: info,
      selection,
      incidents: selected.map((i) => buildIncidentReport(history, i)),
    };
    const text = format === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : format === 'html' ? renderHtml(doc) : renderMarkdown(doc);
    const what = selected.length === 1 ? `the report on incident ${selected[0].id}` : `a report on ${selected.length} incidents`;
    writeOutput(text, opts.output, what);
    return ExitCode.ok;
  } finally {
    history.close();
  }
}

const CHECK_HINT =
  '`netdoctor check` records every run in the history (history.path in netdoctor.yaml): run it regularly first, e.g. from cron ' +
  '(*/5 * * * * netdoctor check --quiet, as in the README), or pass --config with the netdoctor.yaml whose history.path holds your history.';

/** Opens the history for reading. Read-write when it can (so an older file gets the index reports use), read-only otherwise. */
function openHistory(path: string): History {
  if (!existsSync(path)) throw new UserError(`there is no run history at ${path} (history.path)`, CHECK_HINT);
  try {
    return History.open(path);
  } catch (writeErr) {
    try {
      return History.open(path, { readonly: true });
    } catch {
      throw writeErr;
    }
  }
}

function historyInfo(history: History, path: string): HistoryInfo {
  const span = history.span();
  return {
    path,
    runs: span?.runs ?? 0,
    firstRunAt: span ? new Date(span.first).toISOString() : undefined,
    lastRunAt: span ? new Date(span.last).toISOString() : undefined,
  };
}

function pickIncident(history: History, incidents: readonly IncidentSummary[], text: string, path: string): IncidentSummary {
  const m = /^#?\s*(\d+)$/.exec(String(text).trim());
  const known = () => {
    if (incidents.length === 0) return 'there are no incidents in it at all: every run was healthy or could not judge';
    const named = incidents.slice(-NAMED_IN_ERRORS).reverse().map((i) => `${i.id} (${humanTime(i.startedAt).slice(0, 16)}, ${i.title})`);
    const older = incidents.length - named.length;
    return `incidents are: ${named.join('; ')}${older > 0 ? `; and ${older} older (netdoctor report --list)` : ''}`;
  };
  if (!m) throw new UsageError(`--incident ${JSON.stringify(text)} is not an incident id (a number, as netdoctor report --list shows); ${known()}`);
  const id = Number(m[1]);
  const found = incidents.find((i) => i.id === id);
  if (found) return found;
  // A run id from the middle of an incident: say which incident holds it.
  const run = history.run(id);
  const holder = run && incidents.find((i) => Date.parse(run.startedAt) >= Date.parse(i.startedAt) && Date.parse(run.startedAt) <= Date.parse(i.lastSeenAt));
  const hint = holder ? ` (run ${id} is part of incident ${holder.id}: did you mean --incident ${holder.id}?)` : '';
  throw new UsageError(`there is no incident ${id} in the history ${path}${hint}; ${known()}`);
}

/** Standard output, or the file written whole: a failed write leaves an earlier report there untouched. */
function writeOutput(text: string, output: string | undefined, what: string): void {
  if (output === undefined || output === '-') {
    process.stdout.write(text);
    return;
  }
  const fail = (why: string): never => {
    throw new UserError(`cannot write ${what} to ${output}: ${why}`, 'Give -o a file in a directory you can write to, or leave out -o to print to standard output.');
  };
  const dir = dirname(output);
  if (!existsSync(dir)) fail(`the directory ${dir} does not exist`);
  if (!statSync(dir).isDirectory()) fail(`${dir} is not a directory`);
  if (existsSync(output) && statSync(output).isDirectory()) fail('it is a directory');
  try {
    // A report names the LAN's hosts, addresses and outages: for its owner only (share it deliberately).
    writeFileAtomic(output, text, 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    fail(code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'ENOSPC' ? 'the disk is full' : code === 'EROFS' ? 'the file system is read-only' : errorMessage(err));
  }
  process.stderr.write(`netdoctor: wrote ${what} to ${output} (${formatBytes(Buffer.byteLength(text))})\n`);
}

function formatBytes(n: number): string {
  return n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`;
}
