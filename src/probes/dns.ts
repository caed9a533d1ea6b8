/**
 * The DNS probe: does name resolution work, where does it break, and are the
 * answers right?
 *
 * In the seed's outage the router kept handing out the DNS Pi's old address,
 * so every device lost names at once. This probe asks every server a device
 * could be using — `dns.servers` (default: /etc/resolv.conf), the address the
 * router hands out (`router.dnsServer`) and what a DHCP offer of this run said
 * — the names that must resolve to known addresses (`dns.records`), names that
 * prove upstream resolution works (`dns.external`) and the reverse of each
 * inventory host, and emits one `query` observation per (server, name, type)
 * and one `server` summary per server (docs/observations.md).
 *
 * All questions go out at once and each carries the same cut-off, so with
 * every server dead the probe still ends inside its deadline: timeouts run in
 * parallel, never one after another.
 */
import type { Config } from '../config/resolve.js';
import { anySignal } from '../shared/abort.js';
import { formatDuration } from '../shared/duration.js';
import { isIPv4, reverseName } from '../shared/ipv4.js';
import { limiter } from '../shared/limit.js';
import { median } from '../shared/stats.js';
import { queryDns, type DnsQueryOptions, type DnsResult } from './net/dns-client.js';
import { answerValues, normalizeName, RCODE } from './net/dns-packet.js';
import { DNS_WRONG_ANSWER_REASONS, type Observation, type ObservationDraft, type Probe, type ProbeContext } from './types.js';

export type QueryKind = 'record' | 'external' | 'reverse';
export type ServerSource = 'config' | 'resolv.conf' | 'router' | 'dhcp';
const SOURCE_ORDER: readonly ServerSource[] = ['config', 'resolv.conf', 'router', 'dhcp'];

export interface Question {
  name: string;
  type: 'A' | 'PTR';
  kind: QueryKind;
  /** The address a `dns.records` name must resolve to. */
  expected?: string;
  /** The inventory host a reverse question is about. */
  host?: string;
}

/** Per-try timeout and tries when time allows (1 + 1.5 + 2 = 4.5 s), for a server that answers some questions. */
const TRY_TIMEOUT_MS = 1000;
/**
 * A server that sent nothing at all to any of this run's questions in this long is silent: its
 * questions stop retrying (docs/probes/dns.md). A slow server's first replies come well before.
 */
export const SILENT_CUT_MS = 1000;
const TRIES = 3;
const TRY_SPAN = 4.5; // sum of the growth factors of the tries, in units of TRY_TIMEOUT_MS
/** Least time worth starting a late (DHCP-offered) server with. */
const MIN_LATE_BUDGET_MS = 400;
/** Sockets open at once; a large inventory waits in line rather than exhausting descriptors. */
const MAX_IN_FLIGHT = 64;

export const dnsProbe: Probe = {
  name: 'dns',
  title: 'DNS: do the name servers answer, and with the right addresses',
  vantages: ['inside'],
  run,
};

/** What to ask, in a stable order: records, external names, then reverse names of the inventory. */
export function planQuestions(config: Config): Question[] {
  const out: Question[] = [];
  const seen = new Set<string>();
  const add = (q: Question) => {
    const key = `${normalizeName(q.name)}/${q.type}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(q);
  };
  for (const [name, expected] of Object.entries(config.dns.records)) add({ name, type: 'A', kind: 'record', expected });
  for (const name of config.dns.external) add({ name, type: 'A', kind: 'external' });
  for (const host of config.hosts) add({ name: reverseName(host.ip), type: 'PTR', kind: 'reverse', host: host.name });
  return out;
}

/** Servers named by the config, each with where it came from. */
export function configuredServers(config: Config): Map<string, Set<ServerSource>> {
  const servers = new Map<string, Set<ServerSource>>();
  const fromMachine = config.source.fromMachine.includes('dns.servers');
  for (const s of config.dns.servers) addSource(servers, s, fromMachine ? 'resolv.conf' : 'config');
  if (config.router.dnsServer) addSource(servers, config.router.dnsServer, 'router');
  return servers;
}

function addSource(servers: Map<string, Set<ServerSource>>, server: string, source: ServerSource): void {
  const set = servers.get(server) ?? new Set<ServerSource>();
  set.add(source);
  servers.set(server, set);
}

/** DNS servers named in this run's DHCP offers (`offer` observations, `data.dns[]`). */
export function dhcpOfferedServers(observations: readonly Observation[] | undefined): string[] {
  const out: string[] = [];
  for (const obs of observations ?? []) {
    if (obs.check !== 'offer') continue;
    const dns = (obs.data as { dns?: unknown } | undefined)?.dns;
    if (!Array.isArray(dns)) continue;
    for (const s of dns) if (typeof s === 'string' && isIPv4(s) && !out.includes(s)) out.push(s);
  }
  return out;
}

export interface QueryData {
  server: string;
  name: string;
  type: string;
  kind: QueryKind;
  /** What the transport saw: answered, timeout, refused (ICMP), unreachable, malformed, error. */
  outcome: DnsResult['outcome'];
  rcode?: number;
  rcodeName?: string;
  flags?: { aa: boolean; ra: boolean; tc: boolean };
  /** Values of the asked type: addresses for A, names for PTR. */
  answers: string[];
  /** Lowest TTL of those answers, s. */
  ttl?: number;
  expected?: string;
  host?: string;
  attempts: number;
  transport: 'udp' | 'tcp';
  latencyMs: number;
  /** Datagrams ignored as not ours / rejected as unreadable. */
  strays: number;
  rejected: number;
  error?: string;
}

/** One query observation from one transport result. Pure. */
export function queryObservation(q: Question, r: DnsResult): ObservationDraft<QueryData> {
  const subject = `${r.server}/${q.name}/${q.type}`;
  const reply = r.reply;
  const answers = reply ? answerValues(reply, q.type) : [];
  const ttls = reply ? reply.answers.filter((a) => a.type === q.type).map((a) => a.ttl) : [];
  const data: QueryData = {
    server: r.server,
    name: q.name,
    type: q.type,
    kind: q.kind,
    outcome: r.outcome,
    ...(reply ? { rcode: reply.rcode, rcodeName: reply.rcodeName, flags: { aa: reply.flags.aa, ra: reply.flags.ra, tc: reply.flags.tc } } : {}),
    answers,
    ...(ttls.length ? { ttl: Math.min(...ttls) } : {}),
    ...(q.expected ? { expected: q.expected } : {}),
    ...(q.host ? { host: q.host } : {}),
    attempts: r.attempts,
    transport: r.transport,
    latencyMs: r.latencyMs,
    strays: r.strays,
    rejected: r.rejected,
    ...(r.error ? { error: r.error } : {}),
  };
  const labels: Record<string, string> = { server: r.server, name: q.name, type: q.type, kind: q.kind };
  if (q.expected) labels.expected = q.expected;
  if (q.host) labels.host = q.host;
  const values: Record<string, number> = {};
  if (reply) {
    values.latency_ms = r.latencyMs;
    values.rcode = reply.rcode;
  }
  const what = `${q.name} ${q.type}`;
  const ms = formatDuration(r.latencyMs, { spaced: true, fine: true });
  const verdict = (status: 'ok' | 'fail' | 'error', reason: string, summary: string): ObservationDraft<QueryData> => {
    values.ok = status === 'ok' ? 1 : 0;
    return { check: 'query', subject, status, reason, summary, labels, values, data };
  };

  switch (r.outcome) {
    case 'timeout':
      return verdict('fail', 'timeout', `${r.server} did not answer ${what} (${r.attempts} ${r.attempts === 1 ? 'try' : 'tries'} in ${ms})`);
    case 'refused':
      return verdict('fail', 'refused', `${r.server} refused ${what}: nothing listens on UDP port ${r.port} (ICMP port unreachable)`);
    case 'unreachable':
      return verdict('fail', 'unreachable', `${r.server} is unreachable for ${what} (${r.error ?? 'no route'})`);
    case 'malformed':
      return verdict('error', 'malformed', `${r.server} answered ${what} only with replies netdoctor cannot read (${r.rejected} rejected)`);
    case 'aborted':
      return verdict('error', 'aborted', `${what} to ${r.server} was interrupted`);
    case 'error':
      return verdict('error', 'socket-error', `could not ask ${r.server} for ${what}: ${r.error ?? 'socket error'}`);
    case 'answered':
      break;
  }
  const rcode = reply!.rcode;
  if (rcode === RCODE.REFUSED) return verdict('fail', 'refused', `${r.server} answered REFUSED to ${what}`);
  if (rcode === RCODE.SERVFAIL) return verdict('fail', 'servfail', `${r.server} answered SERVFAIL to ${what} (it could not resolve it)`);
  if (rcode === RCODE.NXDOMAIN) return verdict('fail', 'nxdomain', `${r.server} says ${q.name} does not exist (NXDOMAIN)`);
  if (rcode !== RCODE.NOERROR) return verdict('error', reply!.rcodeName.toLowerCase(), `${r.server} answered ${reply!.rcodeName} to ${what}`);
  if (answers.length === 0) return verdict('fail', 'no-answer', `${r.server} has no ${q.type} record for ${q.name} (NOERROR, empty)`);
  const shown = answers.slice(0, 4).join(', ') + (answers.length > 4 ? `, … (${answers.length})` : '');
  if (q.kind === 'record' && q.expected) {
    labels.actual = answers.join(',');
    if (!answers.includes(q.expected)) {
      return verdict('fail', 'wrong-answer', `${r.server} says ${q.name} is ${shown}, expected ${q.expected}`);
    }
  }
  return verdict('ok', 'answered', `${r.server}: ${q.name} → ${shown} in ${ms}${reply!.flags.tc && r.transport === 'udp' ? ' (truncated)' : ''}`);
}

export interface ServerData {
  server: string;
  sources: ServerSource[];
  local: { ok: number; total: number };
  external: { ok: number; total: number };
  /** Query reasons by count, e.g. { answered: 4, timeout: 1 }. */
  reasons: Record<string, number>;
  wrongAnswers: Array<{ name: string; expected: string; actual: string[] }>;
}

/** The per-server verdict from its query observations. Pure. */
export function serverObservation(server: string, sources: Iterable<ServerSource>, queries: ReadonlyArray<ObservationDraft<QueryData>>): ObservationDraft<ServerData> {
  const sorted = SOURCE_ORDER.filter((s) => [...sources].includes(s));
  const local = { ok: 0, total: 0 };
  const external = { ok: 0, total: 0 };
  const reasons: Record<string, number> = {};
  const wrongAnswers: ServerData['wrongAnswers'] = [];
  const latencies: number[] = [];
  let replied = 0;
  let icmpRefused = 0;
  let rcodeRefused = 0;
  // Names (not PTRs) resolved, and local names it could not answer at all (not merely answered wrong).
  let namesOk = 0;
  let localUnanswered = 0;
  for (const q of queries) {
    const d = q.data!;
    if (d.kind !== 'reverse' && q.status === 'ok') namesOk++;
    if (d.kind === 'record' && q.status === 'fail' && !DNS_WRONG_ANSWER_REASONS.includes(q.reason)) localUnanswered++;
    const bucket = d.kind === 'external' ? external : local;
    bucket.total++;
    if (q.status === 'ok') bucket.ok++;
    reasons[q.reason] = (reasons[q.reason] ?? 0) + 1;
    if (d.outcome === 'answered') {
      replied++;
      latencies.push(d.latencyMs);
      if (d.rcode === RCODE.REFUSED) rcodeRefused++;
    }
    if (d.outcome === 'refused') icmpRefused++;
    if (q.reason === 'wrong-answer') wrongAnswers.push({ name: d.name, expected: d.expected!, actual: d.answers });
  }
  const total = local.total + external.total;
  const okCount = local.ok + external.ok;
  const data: ServerData = { server, sources: sorted, local, external, reasons, wrongAnswers };
  const labels = { server, source: sorted.join(',') };
  const values: Record<string, number> = { answered: replied, failed: total - okCount, ok: 0 };
  if (latencies.length) values.latency_ms = median(latencies);
  const make = (status: 'ok' | 'fail', reason: string, summary: string): ObservationDraft<ServerData> => {
    values.ok = status === 'ok' ? 1 : 0;
    return { check: 'server', subject: server, status, reason, summary, labels, values, data };
  };
  const failing = Object.entries(reasons).filter(([r]) => r !== 'answered').map(([r, n]) => `${n} ${r}`).join(', ');

  if (replied === 0) {
    if (icmpRefused > 0) return make('fail', 'refused', `${server} refuses DNS: nothing listens on its port 53 (ICMP port unreachable for ${icmpRefused} of ${total} questions)`);
    return make('fail', 'unreachable', `${server} did not answer any of ${total} questions (${failing}): the server is silent or gone`);
  }
  if (okCount === total) {
    return make('ok', 'healthy', `${server} answered all ${total} questions correctly (local ${local.ok}/${local.total}, external ${external.ok}/${external.total}), median ${formatDuration(values.latency_ms, { spaced: true, fine: true })}`);
  }
  if (okCount === 0 && rcodeRefused === replied) {
    return make('fail', 'refused', `${server} answers but REFUSES every question (${rcodeRefused} of ${total}): it does not serve this client`);
  }
  if (namesOk === 0 && localUnanswered > 0) {
    return make('fail', 'failing', `${server} answered ${replied} of ${total} questions but resolved no name (${failing}): the server runs, what it resolves from is broken`);
  }
  if (external.total > 0 && external.ok === 0 && local.ok > 0) {
    return make('fail', 'upstream-failing', `${server} answers local names (${local.ok}/${local.total}) but no external name (0/${external.total}: ${reasonsOf(queries, 'external')}): its upstream resolution is failing`);
  }
  if (wrongAnswers.length > 0) {
    const w = wrongAnswers.map((x) => `${x.name} → ${x.actual.join(',')} (expected ${x.expected})`).join('; ');
    return make('fail', 'wrong-answers', `${server} gives wrong answers: ${w}`);
  }
  return make('fail', 'partial', `${server} answered ${okCount} of ${total} questions correctly (${failing})`);
}

function reasonsOf(queries: ReadonlyArray<ObservationDraft<QueryData>>, kind: QueryKind): string {
  const counts: Record<string, number> = {};
  for (const q of queries) if (q.data!.kind === kind && q.status !== 'ok') counts[q.reason] = (counts[q.reason] ?? 0) + 1;
  return Object.entries(counts).map(([r, n]) => `${n} ${r}`).join(', ');
}

async function run(ctx: ProbeContext): Promise<void> {
  const questions = planQuestions(ctx.config);
  const servers = configuredServers(ctx.config);
  const dhcpInRun = ctx.resultsOf('dhcp');

  if (questions.length === 0) {
    ctx.emit({
      check: 'probe', subject: 'dns', status: 'error', reason: 'not-configured',
      summary: 'nothing to ask: set dns.records, dns.external or hosts in netdoctor.yaml',
    });
    return;
  }

  // Leave the runner room to take the summaries before it cuts the probe at the deadline.
  const margin = Math.min(300, Math.max(50, (ctx.deadline - Date.now()) * 0.05));
  const cutoff = ctx.deadline - margin;
  const limit = limiter(MAX_IN_FLIGHT);
  const summaries: Array<Promise<void>> = [];

  const askServer = async (server: string, tryTimeoutMs: number): Promise<Array<ObservationDraft<QueryData>>> => {
    // ICMP port unreachable means nothing listens on the server's port 53: the other questions to it
    // cannot fare better. The kernel rate-limits these ICMP messages per peer, so most parallel
    // questions would otherwise wait out their timeouts for a verdict already known.
    const portClosed = new AbortController();
    // Silence: no datagram from the server for any question within the cut. Measured here, by this probe.
    const silent = new AbortController();
    let heard = false;
    const silentTimer = setTimeout(() => heard || silent.abort(), Math.min(SILENT_CUT_MS, tryTimeoutMs));
    const { signal, dispose } = anySignal([ctx.signal, portClosed.signal, silent.signal]);
    const drafts = await Promise.all(
      questions.map((q) =>
        limit(async () => {
          const opts: DnsQueryOptions = {
            server, name: q.name, type: q.type, timeoutMs: tryTimeoutMs, attempts: TRIES, deadline: cutoff, signal,
          };
          let result = await queryDns({ ...opts, onDatagram: () => (heard = true) });
          if (result.outcome === 'refused') portClosed.abort();
          else if (result.outcome === 'aborted' && portClosed.signal.aborted && !ctx.signal.aborted) {
            result = { ...result, outcome: 'refused', error: 'ECONNREFUSED on another question to this server' };
          } else if (result.outcome === 'aborted' && silent.signal.aborted && !ctx.signal.aborted) {
            result = { ...result, outcome: 'timeout', error: `no reply to any question to this server within ${formatDuration(SILENT_CUT_MS, { spaced: true })}` };
          }
          const draft = queryObservation(q, result);
          if (result.outcome !== 'aborted') ctx.emit(draft);
          return draft;
        }),
      ),
    ).finally(() => {
      clearTimeout(silentTimer);
      dispose();
    });
    return drafts.filter((d) => d.data!.outcome !== 'aborted');
  };

  // DHCP's results decide only the `dhcp` source of the configured servers and which new servers
  // to ask; the configured servers' questions go out now, without waiting for it.
  let cutoffTimer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const dhcpServersPromise: Promise<string[] | undefined> = Promise.race([
    dhcpInRun.then(dhcpOfferedServers, () => undefined),
    new Promise<undefined>((res) => {
      cutoffTimer = setTimeout(() => res(undefined), Math.max(0, cutoff - Date.now()));
      onAbort = () => res(undefined);
      ctx.signal.addEventListener('abort', onAbort, { once: true });
    }),
  ]).finally(() => {
    clearTimeout(cutoffTimer);
    if (onAbort) ctx.signal.removeEventListener('abort', onAbort);
  });

  // Every task gets its handler at once: one failing while the probe waits ~6 s for DHCP's
  // results would otherwise be an unhandled rejection, which ends the whole process.
  const failures: unknown[] = [];
  const track = (task: Promise<void>) => summaries.push(task.catch((err: unknown) => void failures.push(err)));

  for (const [server, sources] of servers) {
    track(
      (async () => {
        const drafts = await askServer(server, TRY_TIMEOUT_MS);
        const fromDhcp = await dhcpServersPromise;
        if (fromDhcp?.includes(server)) sources.add('dhcp');
        if (drafts.length && !ctx.signal.aborted) ctx.emit(serverObservation(server, sources, drafts));
      })(),
    );
  }

  const fromDhcp = await dhcpServersPromise;
  const late = (fromDhcp ?? []).filter((s) => !servers.has(s));
  if (servers.size === 0 && late.length === 0) {
    ctx.emit({
      check: 'probe', subject: 'dns', status: 'error', reason: 'not-configured',
      summary: 'no DNS server to ask: set dns.servers or router.dnsServer in netdoctor.yaml (none in /etc/resolv.conf, none offered by DHCP)',
    });
  }
  for (const server of late) {
    const budget = cutoff - Date.now();
    if (budget < MIN_LATE_BUDGET_MS) {
      ctx.emit({
        check: 'server', subject: server, status: 'error', reason: 'no-time',
        summary: `DHCP offered DNS server ${server} too late to ask it within the deadline; run with a longer --deadline`,
        labels: { server, source: 'dhcp' },
        data: { server, sources: ['dhcp'], budgetMs: Math.max(0, Math.round(budget)) },
      });
      continue;
    }
    // Fit all tries into what is left.
    const tryTimeoutMs = Math.max(100, Math.min(TRY_TIMEOUT_MS, budget / TRY_SPAN));
    track(
      (async () => {
        const drafts = await askServer(server, tryTimeoutMs);
        if (drafts.length && !ctx.signal.aborted) ctx.emit(serverObservation(server, ['dhcp'], drafts));
      })(),
    );
  }
  await Promise.all(summaries);
  if (failures.length > 0) throw failures[0];
}
