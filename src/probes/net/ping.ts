/**
 * ICMP echo through iputils `ping`, spawned with an argument array.
 *
 * Why not the `ping` npm package (0.4.4, see the dependency audit): it passes
 * the target to the child unvalidated and without `--` (`probe('-h')` throws
 * an uncaught exception), rewrites the caller's `LANG`, parses locale-dependent
 * output (`Zeit=0,045` read as 45 ms) and starts one process per address with
 * no cap. Here: only dotted IPv4 targets (which cannot look like an option) go
 * after `--`, the child runs with `LC_ALL=C`, every call has a hard time limit
 * and dies with the caller's AbortSignal, and `pingAll` caps concurrency.
 *
 * The per-address part is shared: the VPN/DDNS probe uses `ping` with `ttl`
 * for the hop past the gateway (carrier-grade NAT check).
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, realpathSync } from 'node:fs';
import { basename } from 'node:path';
import { onAbort } from '../../shared/abort.js';
import { errorMessage } from '../../shared/errors.js';
import { isIPv4, isInterfaceName } from '../../shared/ipv4.js';
import { mapLimit } from '../../shared/limit.js';

export interface PingOptions {
  /** Echo requests to send (default 3). */
  count?: number;
  /** Upper bound for the whole call, ms (default 2000). The child is interrupted when it runs over. */
  timeoutMs?: number;
  /** IP time-to-live of the requests; with a small TTL a router on the path answers `Time to live exceeded`. */
  ttl?: number;
  /** Gap between requests, ms (default 200; iputils refuses < 2 ms without root). */
  intervalMs?: number;
  signal?: AbortSignal;
  /** Send out of this interface (`ping -I`). */
  iface?: string;
}

export interface PingResult {
  target: string;
  sent: number;
  received: number;
  /** 0-100; 100 when nothing was sent. */
  lossPct: number;
  /** Round-trip time of every (non-duplicate) reply, in order. */
  rttMs: number[];
  avgRttMs?: number;
  /** The router that answered `Time to live exceeded` (with `ttl`). */
  ttlExceededFrom?: string;
  /** Why ping could not measure (missing binary, no permission, no route, aborted). Absent when it measured, even if nothing answered. */
  error?: string;
}

export const PING_DEFAULTS = { count: 3, timeoutMs: 2000, intervalMs: 200 } as const;

/** Interface names as Linux allows them, never starting with `-` (so never an option). */

/** One reply line of iputils ping output. */
export interface PingReply {
  from: string;
  seq: number;
  ttl?: number;
  timeMs: number;
  duplicate: boolean;
}

export interface ParsedPing {
  sent?: number;
  received?: number;
  lossPct?: number;
  avgRttMs?: number;
  replies: PingReply[];
  /** `From X icmp_seq=N <message>` lines: ICMP errors about our requests. */
  errors: Array<{ from: string; seq: number; message: string }>;
}

/**
 * Parses iputils `ping -n` output in the C locale. IPv6 sources keep their
 * zone (`fe80::1%eth0`) stripped; the reply address is what the kernel reports
 * as the source of the echo reply.
 */
export function parsePingOutput(text: string): ParsedPing {
  const out: ParsedPing = { replies: [], errors: [] };
  // iputils marks `(DUP!)` for unicast only; a multicast echo gets one unmarked reply per host.
  const seen = new Set<number>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    let m = /^\d+ bytes from ([0-9a-fA-F.:%\w-]+?):? icmp_seq=(\d+)(?: ttl=(\d+))? time[=<]([\d.]+) ms( \(DUP!\))?/.exec(line);
    if (m) {
      const seq = Number(m[2]);
      out.replies.push({
        from: stripZone(m[1]),
        seq,
        ...(m[3] !== undefined ? { ttl: Number(m[3]) } : {}),
        timeMs: Number(m[4]),
        duplicate: m[5] !== undefined || seen.has(seq),
      });
      seen.add(seq);
      continue;
    }
    m = /^From ([0-9a-fA-F.:%\w-]+?):? icmp_seq=(\d+) (.+)$/.exec(line);
    if (m) {
      out.errors.push({ from: stripZone(m[1]), seq: Number(m[2]), message: m[3].trim() });
      continue;
    }
    m = /^(\d+) packets transmitted, (\d+) received,(?: \+\d+ duplicates,)?(?: \+\d+ errors,)?(?: \+\d+ corrupted,)? ([\d.]+)% packet loss/.exec(line);
    if (m) {
      out.sent = Number(m[1]);
      out.received = Number(m[2]);
      out.lossPct = Number(m[3]);
      continue;
    }
    m = /^(?:rtt|round-trip) min\/avg\/max(?:\/mdev)? = [\d.]+\/([\d.]+)\//.exec(line);
    if (m) out.avgRttMs = Number(m[1]);
  }
  return out;
}

function stripZone(address: string): string {
  const i = address.indexOf('%');
  return i < 0 ? address : address.slice(0, i);
}

let resolvedPing: string | undefined;
let resolvedFor: string | undefined;

/**
 * The iputils ping binary. BusyBox ping prints a different summary and takes
 * different flags, so it is refused with the package to install rather than
 * misread. `NETDOCTOR_PING` overrides the search (a non-standard prefix).
 */
export function pingBinary(): string {
  if (resolvedPing && resolvedFor === process.env.NETDOCTOR_PING) return resolvedPing;
  resolvedPing = undefined;
  const candidates = process.env.NETDOCTOR_PING ? [process.env.NETDOCTOR_PING] : ['/usr/bin/ping', '/bin/ping', '/usr/sbin/ping', '/sbin/ping'];
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
    } catch {
      continue;
    }
    if (basename(realpathSync(path)) === 'busybox') {
      throw new Error(`${path} is BusyBox ping, whose output netdoctor cannot read reliably: install iputils ping (Debian/Ubuntu: apt-get install iputils-ping)`);
    }
    resolvedPing = path;
    resolvedFor = process.env.NETDOCTOR_PING;
    return path;
  }
  throw new Error(`ping was not found (looked for ${candidates.join(', ')}): install iputils ping (Debian/Ubuntu: apt-get install iputils-ping)`);
}

/** The argv after the binary: numeric output, bounded waits, and the target after `--`. */
export function pingArgs(target: string, opts: { count: number; intervalMs: number; waitMs: number; ttl?: number; iface?: string; ipv6?: boolean; deadlineS?: number }): string[] {
  const args = opts.ipv6 ? ['-6'] : ['-4'];
  args.push('-n', '-c', String(opts.count), '-i', seconds(opts.intervalMs), '-W', seconds(opts.waitMs));
  if (opts.deadlineS !== undefined) args.push('-w', String(opts.deadlineS));
  if (opts.ttl !== undefined) args.push('-t', String(opts.ttl));
  if (opts.iface !== undefined) args.push('-I', opts.iface);
  args.push('--', target);
  return args;
}

function seconds(ms: number): string {
  return (Math.max(1, Math.round(ms)) / 1000).toFixed(3);
}

function checkOptions(opts: PingOptions): { count: number; timeoutMs: number; intervalMs: number } {
  const count = opts.count ?? PING_DEFAULTS.count;
  const timeoutMs = opts.timeoutMs ?? PING_DEFAULTS.timeoutMs;
  const intervalMs = opts.intervalMs ?? PING_DEFAULTS.intervalMs;
  if (!Number.isInteger(count) || count < 1 || count > 1000) throw new RangeError(`ping count ${count} is not a whole number 1-1000`);
  if (!(timeoutMs > 0)) throw new RangeError(`ping timeoutMs ${timeoutMs} is not a positive number of milliseconds`);
  if (!(intervalMs >= 2)) throw new RangeError(`ping intervalMs ${intervalMs} is below 2 ms (iputils refuses that without root)`);
  if (opts.ttl !== undefined && (!Number.isInteger(opts.ttl) || opts.ttl < 1 || opts.ttl > 255)) throw new RangeError(`ping ttl ${opts.ttl} is not a whole number 1-255`);
  if (opts.iface !== undefined && !isInterfaceName(opts.iface)) throw new RangeError(`ping iface ${JSON.stringify(opts.iface)} is not an interface name`);
  return { count, timeoutMs, intervalMs };
}

interface RawRun {
  parsed: ParsedPing;
  stderr: string;
  code: number | null;
  error?: string;
}

/**
 * Runs ping once and never rejects for network reasons: whatever went wrong is
 * in `error`. The child gets SIGINT at the time limit or on abort (iputils then
 * prints its statistics, so partial results are kept) and SIGKILL shortly after.
 */
async function runPing(target: string, opts: PingOptions & { ipv6?: boolean; deadlineS?: number }): Promise<RawRun> {
  const { count, timeoutMs, intervalMs } = checkOptions(opts);
  const empty: ParsedPing = { replies: [], errors: [] };
  if (opts.signal?.aborted) return { parsed: empty, stderr: '', code: null, error: 'aborted before ping started' };
  let binary: string;
  try {
    binary = pingBinary();
  } catch (err) {
    return { parsed: empty, stderr: '', code: null, error: errorMessage(err) };
  }
  // Requests go out over (count-1) intervals; what is left of the budget is the wait for the last reply.
  const sendSpan = (count - 1) * intervalMs;
  const waitMs = Math.max(100, timeoutMs - sendSpan - 50);
  const args = pingArgs(target, { count, intervalMs, waitMs, ttl: opts.ttl, iface: opts.iface, ipv6: opts.ipv6, deadlineS: opts.deadlineS });

  return new Promise<RawRun>((resolve) => {
    let stdout = '';
    let stderr = '';
    let why: string | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const child = spawn(binary, args, { env: { ...process.env, LC_ALL: 'C', LANG: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const stop = (reason: string) => {
      if (why !== undefined || child.exitCode !== null || child.signalCode !== null) return;
      why = reason;
      child.kill('SIGINT');
      killTimer = setTimeout(() => child.kill('SIGKILL'), 300);
      killTimer.unref();
    };
    const limit = setTimeout(() => stop(`ping did not finish within ${timeoutMs} ms`), timeoutMs + 250);
    // Through the signal's one shared listener: 32 pings at once would otherwise add 32 (Node warns past 10).
    const offAbort = onAbort(opts.signal, () => stop('aborted'));
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    let spawnError: string | undefined;
    child.on('error', (err: NodeJS.ErrnoException) => {
      spawnError = err.code === 'ENOENT'
        ? `ping was not found at ${binary}: install iputils ping (Debian/Ubuntu: apt-get install iputils-ping)`
        : `could not start ${binary}: ${err.message}`;
    });
    child.on('close', (code) => {
      clearTimeout(limit);
      clearTimeout(killTimer);
      offAbort();
      const parsed = parsePingOutput(stdout);
      let error = spawnError ?? why;
      // Exit 2 without a summary means ping could not even send (no route, no permission, bad interface).
      if (!error && code === 2 && parsed.sent === undefined) error = explainPingFailure(stderr, target);
      resolve({ parsed, stderr, code, ...(error ? { error } : {}) });
    });
  });
}

function explainPingFailure(stderr: string, target: string): string {
  const text = stderr.trim().split('\n').filter((l) => !/^ping: Warning/.test(l)).join('; ') || 'ping failed without a message';
  if (/Operation not permitted|Permission denied/i.test(text)) {
    return `${text} — ping has no permission to send ICMP: run as root, give it the capability (setcap cap_net_raw+ep ${resolvedPing ?? '/usr/bin/ping'}) or allow ping sockets (sysctl net.ipv4.ping_group_range="0 2147483647")`;
  }
  if (/Network is unreachable/i.test(text)) return `no route to ${target}: ${text}`;
  return text;
}

/** Pings one IPv4 address. Rejects only for a programming error (bad target or options). */
export async function ping(target: string, opts: PingOptions = {}): Promise<PingResult> {
  const { icmpErrors: _ignored, ...result } = await pingDetailed(target, opts);
  return result;
}

/**
 * `ping`, plus the ICMP errors routers sent back instead of replies
 * (`Destination Net Unreachable` from the gateway says more than silence).
 */
export async function pingDetailed(target: string, opts: PingOptions = {}): Promise<PingResult & { icmpErrors: Array<{ from: string; message: string }> }> {
  if (!isIPv4(target)) throw new RangeError(`ping target ${JSON.stringify(target)} is not an IPv4 address`);
  const run = await runPing(target, opts);
  const { parsed } = run;
  const rttMs = parsed.replies.filter((r) => !r.duplicate && r.from === target).map((r) => r.timeMs);
  const sent = parsed.sent ?? 0;
  const received = parsed.received ?? rttMs.length;
  const lossPct = sent > 0 ? (parsed.lossPct ?? round1(((sent - received) / sent) * 100)) : 100;
  const avg = parsed.avgRttMs ?? (rttMs.length ? round3(rttMs.reduce((a, b) => a + b, 0) / rttMs.length) : undefined);
  const ttlExceeded = parsed.errors.find((e) => /time to live exceeded/i.test(e.message));
  const icmpErrors = [...new Map(parsed.errors.map((e) => [`${e.from} ${e.message}`, { from: e.from, message: e.message }])).values()];
  return {
    target,
    sent,
    received,
    lossPct,
    rttMs,
    ...(avg !== undefined && received > 0 ? { avgRttMs: avg } : {}),
    ...(ttlExceeded ? { ttlExceededFrom: ttlExceeded.from } : {}),
    ...(run.error ? { error: run.error } : {}),
    icmpErrors,
  };
}

/**
 * Pings several addresses with at most `concurrency` ping processes at once
 * (not one process per address); results in the order of `targets`.
 */
export async function pingAll(targets: readonly string[], opts: PingOptions & { concurrency?: number } = {}): Promise<PingResult[]> {
  const { concurrency = 16, ...rest } = opts;
  return mapLimit(targets, concurrency, (t) => ping(t, rest));
}

/**
 * Echo to a link-scope IPv6 multicast group (`ff02::1`, all nodes) out of one
 * interface: every IPv6 host on the link answers from its fe80:: address, even
 * one that has lost its IPv4 address. Returns the distinct responders.
 *
 * iputils refuses multicast intervals under 1 s without root, and stops at
 * the first reply to each request (its own, looped back) when only the count
 * limits it: so two requests 1 s apart under a 1 s deadline, which collects
 * every answer to the first one, in about a second.
 */
export async function pingLinkMulticast(iface: string, opts: { signal?: AbortSignal } = {}): Promise<{ responders: string[]; error?: string }> {
  const run = await runPing('ff02::1', { count: 2, intervalMs: 1000, deadlineS: 1, timeoutMs: 1600, signal: opts.signal, iface, ipv6: true });
  const responders = [...new Set(run.parsed.replies.map((r) => r.from))];
  return { responders, ...(run.error ? { error: run.error } : {}) };
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
