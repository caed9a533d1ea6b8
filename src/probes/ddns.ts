/**
 * Does the dynamic DNS name point at home, and can anything from outside
 * reach home at all?
 *
 * - `public-ip`: the current public address, from the `ddns.publicIp` sources
 *   tried in order: `http(s)://…` (a what-is-my-IP service answering with the
 *   address as text; JSON or an HTML line with one address also work) or
 *   `dns://SERVER/NAME[?type=A|TXT]` (a DNS server that answers with the
 *   asker's address, e.g. `dns://208.67.222.222/myip.opendns.com` or
 *   `dns://216.239.32.10/o-o.myaddr.l.google.com?type=TXT`).
 * - `record`: the name's A records as its authoritative servers publish them
 *   (found through the NS records of the name or its parents, asked without
 *   recursion), or as `ddns.resolvers` give them; compared with the public
 *   address. Recursive resolvers may keep an old answer for a TTL after an
 *   update, which is why the authoritative servers are asked first.
 * - `ddclient`: what ddclient's cache says it last sent, and when. Reported,
 *   never believed: the cache says "good" as happily while the record is
 *   stale. No secret from ddclient's files is ever read into an observation.
 * Whether the public address is the router's own (carrier-grade NAT) is the
 * cgnat rule's judgement (src/diagnose/rules/cgnat.ts), from this probe's
 * public address, the wan probe's hops and the router probe's WAN address.
 *
 * From outside (a VPS), a what-is-my-IP service sees the VPS, not home: the
 * probe then only resolves the name and reports what is published; the VPN
 * probe's handshake to that name is what tells whether it leads home.
 */
import { redactUrl, redactUrlsIn } from '../shared/redact.js';
import { formatDuration } from '../shared/duration.js';
import { errorMessage } from '../shared/errors.js';
import { isIPv4 } from '../shared/ipv4.js';
import { entryFor, readCachePathFromConf, readDdclientCache, type DdclientEntry } from './net/ddclient.js';
import { addressesOf, answerValues, queryDns, type DnsResult } from './net/dns-client.js';
import { addressInBody, httpGet } from './net/http-get.js';
import type { ObservationStatus, Probe, ProbeContext } from './types.js';

/** Where ddclient keeps its cache unless its config says otherwise (`cache=`). */
export const DEFAULT_DDCLIENT_CACHE = '/var/cache/ddclient/ddclient.cache';
const SOURCE_TIMEOUT_MS = 3000;
const DNS_TIMEOUT_MS = 1000;
const DEADLINE_MARGIN_MS = 250;
const MAX_NS_ADDRESSES = 4;

export interface PublicIpData {
  address?: string;
  source: string;
  tried: Array<{ source: string; error?: string }>;
}

export interface RecordData {
  hostname: string;
  published: string[];
  actual?: string;
  resolvers: string[];
  /** The answer came from the name's authoritative servers (AA set), not from a cache. */
  authoritative: boolean;
  /** How the servers were chosen: `ddns.resolvers`, the NS records of `zone`, or the recursive resolvers as a fallback. */
  via: 'resolvers' | 'ns' | 'recursive';
  zone?: string;
  /** Each server's own answer, so one lagging secondary shows. */
  answers: Array<{ server: string; outcome: string; rcode?: string; addresses: string[]; aa?: boolean; ttl?: number }>;
  ttl?: number;
}

export interface DdclientData {
  path?: string;
  host?: string;
  ip?: string;
  status?: string;
  /** Last successful update (ISO time), from the cache's `mtime=`. */
  mtime?: string;
  /** Last attempt (ISO time), from `atime=`. */
  atime?: string;
  keys?: 'ip' | 'ipv4' | 'none';
  version?: string;
  /** ddclient's last address equals the published record / the public address. */
  matchesPublished?: boolean;
  matchesPublic?: boolean;
  error?: string;
}

export const ddnsProbe: Probe = {
  name: 'ddns',
  title: 'The dynamic DNS name points at the current public address, and that address is the router\'s (no CGNAT)',
  vantages: ['inside', 'outside'],
  async run(ctx) {
    const hostname = ctx.config.ddns.hostname;
    if (!ctx.config.ddns.configured) {
      // Privacy: without a ddns: section nothing is asked of any outside service (README, "What leaves your network").
      ctx.emit({ check: 'probe', subject: 'ddns', status: 'skipped', reason: 'not-configured', summary: 'no ddns: section in netdoctor.yaml, so the public address, the DDNS name, ddclient and carrier-grade NAT are not checked and no outside service is asked' });
      return;
    }
    if (ctx.vantage === 'outside') {
      if (!hostname) return notConfigured(ctx, 'from outside the ddns probe only resolves the DDNS name: set ddns.hostname');
      await emitRecord(ctx, hostname, await resolveRecord(ctx, hostname), undefined);
      const why = {
        'public-ip': ['public', 'from outside, a what-is-my-IP service sees this machine, not home'],
        ddclient: ['cache', 'ddclient runs at home, not here'],
      } as const;
      for (const [check, [subject, because]] of Object.entries(why)) {
        ctx.emit({ check, subject, status: 'skipped', reason: 'other-vantage', summary: `${check} is only checked from inside: ${because}` });
      }
      return;
    }

    // Independent questions, asked at once; the record and the cache are judged against the public address.
    const [publicIp, record, ddclient] = await Promise.all([
      learnPublicIp(ctx),
      hostname ? resolveRecord(ctx, hostname) : Promise.resolve(undefined),
      readDdclient(ctx, hostname),
    ]);
    emitPublicIp(ctx, publicIp);
    if (hostname && record) await emitRecord(ctx, hostname, record, publicIp.address);
    else ctx.emit({ check: 'record', subject: 'ddns', status: 'skipped', reason: 'not-configured', summary: 'no DDNS name to check: set ddns.hostname' });
    emitDdclient(ctx, ddclient, record?.published ?? [], publicIp.address);
  },
};

function notConfigured(ctx: ProbeContext, summary: string): void {
  ctx.emit({ check: 'probe', subject: 'ddns', status: 'error', reason: 'not-configured', summary });
}

function remaining(ctx: ProbeContext): number {
  return ctx.deadline - Date.now() - DEADLINE_MARGIN_MS;
}

// ---------------------------------------------------------------------------
// Public address

interface PublicIp {
  address?: string;
  source?: string;
  tried: Array<{ source: string; error?: string }>;
  durationMs: number;
}

async function learnPublicIp(ctx: ProbeContext): Promise<PublicIp> {
  const started = Date.now();
  const tried: PublicIp['tried'] = [];
  for (const source of ctx.config.ddns.publicIp) {
    // A source URL may carry a token or a password: only its redacted form is ever emitted.
    const shown = redactUrl(source);
    const budget = Math.min(SOURCE_TIMEOUT_MS, remaining(ctx));
    if (budget <= 0 || ctx.signal.aborted) {
      tried.push({ source: shown, error: 'not tried: out of time' });
      continue;
    }
    try {
      const address = await addressFrom(ctx, source, budget);
      tried.push({ source: shown });
      return { address, source: shown, tried, durationMs: Date.now() - started };
    } catch (err) {
      tried.push({ source: shown, error: redactUrlsIn(errorMessage(err), [source]) });
    }
  }
  return { tried, durationMs: Date.now() - started };
}

export class SourceError extends Error {
  override name = 'SourceError';
}

/** One source's answer; throws a {@link SourceError} (or HttpGetError) saying why there is none. */
async function addressFrom(ctx: ProbeContext, source: string, timeoutMs: number): Promise<string> {
  const url = new URL(source);
  if (url.protocol === 'http:' || url.protocol === 'https:') {
    const res = await httpGet(source, { timeoutMs, signal: ctx.signal });
    const address = addressInBody(res.body);
    if (!address) throw new SourceError(`the answer holds no single IPv4 address (${res.body.length} bytes)`);
    return address;
  }
  if (url.protocol === 'dns:') return addressFromDns(ctx, parseDnsSource(source), timeoutMs);
  throw new SourceError(`${url.protocol} sources are not supported (expected http:, https: or dns:)`);
}

export interface DnsSource {
  server: string;
  port: number;
  name: string;
  type: 'A' | 'TXT';
}

/** `dns://SERVER[:PORT]/NAME[?type=A|TXT]`: SERVER is an IPv4 address (a name would need a resolver we are testing). */
export function parseDnsSource(source: string): DnsSource {
  const url = new URL(source);
  if (url.protocol !== 'dns:') throw new SourceError(`${source} is not a dns: URL`);
  const server = url.hostname;
  if (!isIPv4(server)) throw new SourceError(`dns: source server ${JSON.stringify(server)} must be an IPv4 address (like dns://208.67.222.222/myip.opendns.com)`);
  const name = decodeURIComponent(url.pathname.replace(/^\/+/, '')).replace(/\.$/, '');
  if (!name) throw new SourceError(`dns: source ${source} names no record (like dns://208.67.222.222/myip.opendns.com)`);
  const type = (url.searchParams.get('type') ?? 'A').toUpperCase();
  if (type !== 'A' && type !== 'TXT') throw new SourceError(`dns: source type ${JSON.stringify(type)} is not A or TXT`);
  return { server, port: url.port ? Number(url.port) : 53, name, type };
}

async function addressFromDns(ctx: ProbeContext, src: DnsSource, timeoutMs: number): Promise<string> {
  const r = await queryDns({
    server: src.server, port: src.port, name: src.name, type: src.type,
    timeoutMs: Math.min(DNS_TIMEOUT_MS, timeoutMs), attempts: 2, deadline: Date.now() + timeoutMs, signal: ctx.signal,
  });
  if (r.outcome !== 'answered' || !r.reply) throw new SourceError(`${src.server}: ${r.outcome}${r.error ? ` (${r.error})` : ''}`);
  if (r.reply.rcode !== 0) throw new SourceError(`${src.server}: ${r.reply.rcodeName}`);
  const values = answerValues(r.reply, src.type);
  const address = src.type === 'A' ? values.find(isIPv4) : values.map(addressInBody).find((a) => a !== undefined);
  if (!address) throw new SourceError(`${src.server}: no address in the ${src.type} answer`);
  return address;
}

function emitPublicIp(ctx: ProbeContext, p: PublicIp): void {
  const sources = ctx.config.ddns.publicIp;
  if (sources.length === 0) {
    ctx.emit({ check: 'public-ip', subject: 'public', status: 'skipped', reason: 'not-configured', summary: 'no public-address source: set ddns.publicIp', data: { source: '', tried: [] } satisfies PublicIpData });
    return;
  }
  const data: PublicIpData = { ...(p.address ? { address: p.address } : {}), source: p.source ?? '', tried: p.tried };
  if (p.address) {
    const failed = p.tried.filter((t) => t.error).length;
    ctx.emit({
      check: 'public-ip', subject: 'public', status: 'ok', reason: 'found',
      summary: `the public address is ${p.address} (from ${p.source}${failed ? ` after ${failed} failed source${failed > 1 ? 's' : ''}` : ''})`,
      labels: { source: p.source! }, data, durationMs: p.durationMs,
    });
  } else {
    ctx.emit({
      check: 'public-ip', subject: 'public', status: 'fail', reason: 'unavailable',
      summary: `the public address could not be learned: ${p.tried.map((t) => `${t.source}: ${t.error}`).join('; ')}`,
      labels: { source: '' }, data, durationMs: p.durationMs,
    });
  }
}

// ---------------------------------------------------------------------------
// The published record

interface RecordLookup {
  published: string[];
  servers: string[];
  authoritative: boolean;
  via: RecordData['via'];
  zone?: string;
  answers: RecordData['answers'];
  nxdomain: boolean;
  ttl?: number;
  durationMs: number;
  /** Why no server gave an answer, when none did. */
  problem?: string;
}

async function resolveRecord(ctx: ProbeContext, hostname: string): Promise<RecordLookup> {
  const started = Date.now();
  const configured = ctx.config.ddns.resolvers;
  if (configured.length > 0) return { ...(await askAll(ctx, hostname, configured, true)), via: 'resolvers', durationMs: Date.now() - started };
  const recursive = ctx.config.dns.servers.filter(isIPv4);
  if (recursive.length === 0) {
    return { published: [], servers: [], authoritative: false, via: 'recursive', answers: [], nxdomain: false, durationMs: 0, problem: 'no DNS server to ask: set ddns.resolvers or dns.servers' };
  }
  const ns = await findAuthoritative(ctx, hostname, recursive);
  if (ns && ns.addresses.length > 0) {
    const got = await askAll(ctx, hostname, ns.addresses, false);
    if (got.answers.some((a) => a.outcome === 'answered')) return { ...got, via: 'ns', zone: ns.zone, durationMs: Date.now() - started };
  }
  // No reachable authoritative server: the recursive resolvers' (possibly cached) answer is the best there is.
  return { ...(await askAll(ctx, hostname, recursive, true)), via: 'recursive', ...(ns ? { zone: ns.zone } : {}), durationMs: Date.now() - started };
}

/** The NS of the closest enclosing zone (the name itself, then its parents), and their addresses. */
async function findAuthoritative(ctx: ProbeContext, hostname: string, recursive: string[]): Promise<{ zone: string; addresses: string[] } | undefined> {
  const labels = hostname.replace(/\.$/, '').split('.');
  for (let i = 0; i < labels.length - 1; i++) {
    const zone = labels.slice(i).join('.');
    const r = await firstAnswer(ctx, zone, 'NS', recursive);
    if (!r?.reply) return undefined;
    if (r.reply.rcode !== 0) {
      if (r.reply.rcodeName === 'NXDOMAIN') continue;
      return undefined;
    }
    const names = answerValues(r.reply, 'NS');
    if (names.length === 0) continue;
    const addresses = new Set<string>();
    for (const n of names.slice(0, MAX_NS_ADDRESSES)) {
      const a = await firstAnswer(ctx, n, 'A', recursive);
      for (const ip of a ? addressesOf(a) : []) addresses.add(ip);
    }
    return { zone, addresses: [...addresses].slice(0, MAX_NS_ADDRESSES) };
  }
  return undefined;
}

async function firstAnswer(ctx: ProbeContext, name: string, type: 'A' | 'NS', servers: string[]): Promise<DnsResult | undefined> {
  for (const server of servers) {
    if (remaining(ctx) <= 0 || ctx.signal.aborted) return undefined;
    const r = await queryDns({ server, name, type, timeoutMs: DNS_TIMEOUT_MS, attempts: 2, deadline: ctx.deadline - DEADLINE_MARGIN_MS, signal: ctx.signal });
    if (r.outcome === 'answered') return r;
  }
  return undefined;
}

async function askAll(ctx: ProbeContext, hostname: string, servers: string[], recursionDesired: boolean): Promise<Omit<RecordLookup, 'via' | 'durationMs'>> {
  const results = await Promise.all(
    servers.map((server) =>
      queryDns({ server, name: hostname, type: 'A', timeoutMs: DNS_TIMEOUT_MS, attempts: 2, deadline: ctx.deadline - DEADLINE_MARGIN_MS, signal: ctx.signal, recursionDesired }),
    ),
  );
  const answers: RecordData['answers'] = results.map((r) => {
    const addresses = addressesOf(r);
    const ttls = r.reply?.answers.filter((a) => a.type === 'A').map((a) => a.ttl) ?? [];
    return {
      server: r.server,
      outcome: r.outcome,
      ...(r.reply ? { rcode: r.reply.rcodeName, aa: r.reply.flags.aa } : {}),
      addresses,
      ...(ttls.length ? { ttl: Math.min(...ttls) } : {}),
    };
  });
  const answered = answers.filter((a) => a.outcome === 'answered');
  const published = [...new Set(answered.flatMap((a) => a.addresses))];
  const ttls = answered.map((a) => a.ttl).filter((t): t is number => t !== undefined);
  const failed = answers.filter((a) => a.outcome !== 'answered');
  return {
    published,
    servers,
    authoritative: answered.length > 0 && answered.every((a) => a.aa === true),
    answers,
    nxdomain: answered.length > 0 && answered.every((a) => a.rcode === 'NXDOMAIN'),
    ...(ttls.length ? { ttl: Math.min(...ttls) } : {}),
    ...(answered.length === 0 ? { problem: `no answer from ${failed.map((a) => `${a.server} (${a.outcome})`).join(', ')}` } : {}),
  };
}

async function emitRecord(ctx: ProbeContext, hostname: string, r: RecordLookup, actual: string | undefined): Promise<void> {
  const data: RecordData = {
    hostname,
    published: r.published,
    ...(actual ? { actual } : {}),
    resolvers: r.servers,
    authoritative: r.authoritative,
    via: r.via,
    ...(r.zone ? { zone: r.zone } : {}),
    answers: r.answers,
    ...(r.ttl !== undefined ? { ttl: r.ttl } : {}),
  };
  const from = r.via === 'ns' ? `the authoritative servers of ${r.zone} (${r.servers.join(', ')})` : `${r.servers.join(', ')}${r.authoritative ? ' (authoritative)' : ''}`;
  const labels: Record<string, string> = { hostname, published: r.published.join(','), ...(actual ? { actual } : {}) };
  const emit = (status: ObservationStatus, reason: string, summary: string, values: Record<string, number> = {}) =>
    ctx.emit({ check: 'record', subject: hostname, status, reason, summary, labels, values, data, durationMs: r.durationMs });

  if (r.nxdomain) return void emit('fail', 'nxdomain', `${hostname} does not exist at ${from} (NXDOMAIN)`, { match: 0 });
  if (r.published.length === 0) {
    return void emit('error', 'unresolved', `${hostname} could not be resolved: ${r.problem ?? `no address record at ${from}`}`);
  }
  const published = r.published.join(', ');
  if (ctx.vantage === 'outside') {
    return void emit('ok', 'published', `${hostname} is published as ${published} by ${from}; whether that is home is for the VPN handshake to tell`);
  }
  if (!actual) {
    return void emit('error', 'no-public-ip', `${hostname} is published as ${published} by ${from}, but the public address could not be learned to compare`);
  }
  if (r.published.includes(actual)) {
    return void emit('ok', 'current', `${hostname} → ${published} at ${from}: the current public address`, { match: 1 });
  }
  emit('fail', 'stale', `${hostname} → ${published} at ${from}, but the public address is ${actual}: the record is stale`, { match: 0 });
}

// ---------------------------------------------------------------------------
// ddclient

type DdclientOutcome =
  | { kind: 'not-configured' }
  | { kind: 'unreadable'; path: string; message: string }
  | { kind: 'no-entry'; path: string; hosts: string[]; version?: string }
  | { kind: 'read'; path: string; entry: DdclientEntry; version?: string; fileMtime: Date };

async function readDdclient(ctx: ProbeContext, hostname: string | undefined): Promise<DdclientOutcome> {
  const { ddclientCache, ddclientConf } = ctx.config.ddns;
  let path = ddclientCache;
  if (!path && ddclientConf) {
    const conf = await readCachePathFromConf(ddclientConf);
    if (!conf.ok) return { kind: 'unreadable', path: ddclientConf, message: conf.error.message };
    path = conf.cachePath ?? DEFAULT_DDCLIENT_CACHE;
  }
  // Only the configured name's entry is ever reported, so nothing else from the file can surface.
  if (!path || !hostname) return { kind: 'not-configured' };
  const read = await readDdclientCache(path);
  if (!read.ok) return { kind: 'unreadable', path, message: read.error.message };
  const entry = entryFor(read.cache, hostname);
  if (!entry) return { kind: 'no-entry', path, hosts: read.cache.entries.map((e) => e.host), version: read.cache.version };
  return { kind: 'read', path, entry, version: read.cache.version, fileMtime: read.fileMtime };
}

function emitDdclient(ctx: ProbeContext, d: DdclientOutcome, published: string[], publicIp: string | undefined): void {
  const subject = 'cache';
  switch (d.kind) {
    case 'not-configured':
      ctx.emit({ check: 'ddclient', subject, status: 'skipped', reason: 'not-configured', summary: 'ddclient\'s cache is not checked: set ddns.ddclientCache (or ddns.ddclientConf) and ddns.hostname' });
      return;
    case 'unreadable':
      ctx.emit({ check: 'ddclient', subject, status: 'error', reason: 'unreadable', summary: `ddclient's cache cannot be read: ${d.message}`, data: { path: d.path, error: d.message } satisfies DdclientData });
      return;
    case 'no-entry':
      ctx.emit({
        check: 'ddclient', subject, status: 'error', reason: 'no-entry',
        // Other names are counted, not listed: a malformed line's "host" could be a fragment of a secret.
        summary: `ddclient's cache ${d.path} has no entry for ${ctx.config.ddns.hostname ?? 'the DDNS name'}${d.hosts.length ? ` (it has ${d.hosts.length} for other names)` : ' (it is empty)'}`,
        data: { path: d.path, ...(d.version ? { version: d.version } : {}) } satisfies DdclientData,
      });
      return;
    case 'read': {
      const e = d.entry;
      const now = Date.now() / 1000;
      const ageS = e.mtime !== undefined ? Math.max(0, Math.round(now - e.mtime)) : undefined;
      const data: DdclientData = {
        path: d.path,
        host: e.host,
        ...(e.ip ? { ip: e.ip } : {}),
        ...(e.status ? { status: e.status } : {}),
        ...(e.mtime !== undefined ? { mtime: new Date(e.mtime * 1000).toISOString() } : {}),
        ...(e.atime !== undefined ? { atime: new Date(e.atime * 1000).toISOString() } : {}),
        keys: e.keys,
        ...(d.version ? { version: d.version } : {}),
        ...(e.ip && published.length ? { matchesPublished: published.includes(e.ip) } : {}),
        ...(e.ip && publicIp ? { matchesPublic: e.ip === publicIp } : {}),
      };
      const when = ageS !== undefined ? `${formatDuration(ageS * 1000, { spaced: true })} ago` : 'at an unknown time';
      const contradicts = e.ip && publicIp && e.ip !== publicIp ? `; the public address is now ${publicIp}` : '';
      ctx.emit({
        check: 'ddclient', subject, status: 'ok', reason: 'read',
        summary: `ddclient last sent ${e.ip ?? 'no address'} for ${e.host}${e.status ? ` (${e.status})` : ''} ${when}${contradicts}`,
        values: ageS !== undefined ? { age_s: ageS } : {},
        data,
      });
    }
  }
}
