/**
 * One DNS question to one server, with the manners of a good stub resolver
 * and the bounds of a monitoring tool:
 *
 * - UDP on a connected socket, so the kernel delivers only the server's
 *   datagrams and reports ICMP port unreachable as ECONNREFUSED (`refused`:
 *   nothing listens) and host/net unreachable as EHOSTUNREACH/ENETUNREACH.
 * - Every datagram passes the gate in dns-packet.ts; strays (wrong id, wrong
 *   question, not a response) are counted and ignored, never fatal, so a
 *   spoofed or late reply cannot end or crash the query.
 * - Retransmits the same message on the same socket (so a late reply to an
 *   earlier try still counts) with p-retry, each try with its own timeout,
 *   all of them inside `deadline`: with every server dead, the caller gets
 *   `timeout` in time, never a pile of stacked waits.
 * - A truncated (TC) reply is asked again over TCP with its own timeout.
 *
 * dns2's own clients are not used: its UDP client has no timeout and asserts
 * inside the socket handler, its TCP client has no timeout and always uses
 * id 0 (see docs/probes/dns.md).
 *
 * `queryDns` never throws for anything the network does; it returns a result
 * whose `outcome` says what happened. It throws only for a bad argument.
 */
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import pRetry from 'p-retry';
import { onAbort } from '../../shared/abort.js';
import {
  answerValues,
  encodeQuery,
  MAX_TCP_REPLY,
  MAX_UDP_REPLY,
  parseReply,
  typeCode,
  typeName,
  type DnsReply,
  type DnsTypeName,
  type RejectReason,
} from './dns-packet.js';

export type { DnsFlags, DnsRecord, DnsReply, DnsTypeName } from './dns-packet.js';
export { answerValues, rcodeName, RCODE } from './dns-packet.js';

export interface DnsQueryOptions {
  /** Server address, IPv4 or IPv6 literal (no names: resolving the resolver is the caller's business). */
  server: string;
  /** Default 53. */
  port?: number;
  name: string;
  type: DnsTypeName | number;
  /** First try's timeout; later tries wait 1.5x, 2x as long. Default 1000 ms. */
  timeoutMs?: number;
  /** UDP tries in all (1 = no retransmit). Default 3. */
  attempts?: number;
  /** Timeout of the TCP retry after a truncated reply. Default 2000 ms. */
  tcpTimeoutMs?: number;
  /** Epoch ms after which nothing more is sent or waited for. Default: the tries' own timeouts. */
  deadline?: number;
  signal?: AbortSignal;
  /** RD bit; default true (ask the server to recurse, as a stub resolver does). */
  recursionDesired?: boolean;
  /** Called for every datagram from the server (ours or not, readable or not): it is alive. */
  onDatagram?: () => void;
}

/**
 * - answered: a sane reply for our question arrived (whatever its rcode — REFUSED, NXDOMAIN… are answers)
 * - timeout: nothing sane came back within the tries and the deadline
 * - refused: ICMP port unreachable — nothing listens on the server's port
 * - unreachable: ICMP host/network unreachable, or no route to the server
 * - malformed: only replies for our question that could not be read (see `rejected`)
 * - aborted: the signal fired
 * - error: a local failure (socket could not be opened…); see `error`
 */
export type DnsOutcome = 'answered' | 'timeout' | 'refused' | 'unreachable' | 'malformed' | 'aborted' | 'error';

export interface DnsResult {
  server: string;
  port: number;
  name: string;
  /** `A`, `PTR`… or `TYPE<n>`. */
  type: string;
  outcome: DnsOutcome;
  /** Present when answered. */
  reply?: DnsReply;
  /** From the first datagram sent to the sane reply (or to giving up). */
  latencyMs: number;
  /** UDP messages sent (1 + retransmits), plus 1 when TCP was tried. */
  attempts: number;
  /** How the reply came: `tcp` after a truncated UDP reply. */
  transport: 'udp' | 'tcp';
  /** Datagrams that were not for this question (wrong id/question, not a response), ignored. */
  strays: number;
  /** Datagrams for this question that could not be read, ignored. */
  rejected: number;
  /** Why the last rejected datagram was rejected. */
  rejectReason?: RejectReason;
  /** Errno code or message for refused/unreachable/error, and when TCP after TC failed (`tcp: …`). */
  error?: string;
}

const DEFAULTS = { port: 53, timeoutMs: 1000, attempts: 3, tcpTimeoutMs: 2000 } as const;
/** Multipliers of `timeoutMs` for try 1, 2, 3, …: a slow server gets more patience, a dead one costs little. */
const TRY_GROWTH = [1, 1.5, 2];

/** Network errors that end a query at once: retrying cannot help. */
const UNREACHABLE_CODES = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'EADDRNOTAVAIL']);

class TryTimeout extends Error {
  constructor() {
    super('no reply');
  }
}

/** Ends a query for good: `shouldRetry` lets only {@link TryTimeout} through. (Not p-retry's AbortError: it rethrows a plain copy.) */
class Final extends Error {
  constructor(readonly outcome: DnsOutcome, detail: string) {
    super(detail);
  }
}

export async function queryDns(opts: DnsQueryOptions): Promise<DnsResult> {
  const family = net.isIP(opts.server);
  if (family === 0) throw new TypeError(`DNS server ${JSON.stringify(opts.server)} is not an IP address`);
  const port = opts.port ?? DEFAULTS.port;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`DNS port ${port} is not 1-65535`);
  const timeoutMs = opts.timeoutMs ?? DEFAULTS.timeoutMs;
  const attempts = Math.max(1, Math.floor(opts.attempts ?? DEFAULTS.attempts));
  const tcpTimeoutMs = opts.tcpTimeoutMs ?? DEFAULTS.tcpTimeoutMs;
  const id = randomInt(0x10000);
  const question = { name: opts.name, type: opts.type };
  // Throws RangeError for a name or type that cannot be asked: a caller bug, not a network outcome.
  const message = encodeQuery({ id, name: opts.name, type: opts.type, recursionDesired: opts.recursionDesired });
  const ownTimeouts = Array.from({ length: attempts }, (_, i) => timeoutMs * (TRY_GROWTH[i] ?? TRY_GROWTH.at(-1)!)).reduce((a, b) => a + b, 0);
  const deadline = opts.deadline ?? Date.now() + ownTimeouts + tcpTimeoutMs;

  const result: DnsResult = {
    server: opts.server,
    port,
    name: opts.name,
    type: typeName(typeCode(opts.type)),
    outcome: 'timeout',
    latencyMs: 0,
    attempts: 0,
    transport: 'udp',
    strays: 0,
    rejected: 0,
  };
  if (opts.signal?.aborted) return { ...result, outcome: 'aborted' };

  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
  const socket = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
  const controller = new AbortController();
  const onOuterAbort = () => controller.abort();
  const offOuter = onAbort(opts.signal, onOuterAbort);

  // One settled state for the whole query; each try only waits on it (or its own timer).
  let settle!: (s: { reply?: DnsReply; final?: Final }) => void;
  const settled = new Promise<{ reply?: DnsReply; final?: Final }>((res) => (settle = res));
  let done = false;
  const finish = (s: { reply?: DnsReply; final?: Final }) => {
    if (done) return;
    done = true;
    settle(s);
  };
  controller.signal.addEventListener('abort', () => finish({ final: new Final('aborted', 'aborted') }), { once: true });

  socket.on('message', (buf, rinfo) => {
    // A connected socket only receives from the server; checked anyway, it costs nothing.
    if (rinfo.address !== opts.server || rinfo.port !== port) {
      result.strays++;
      return;
    }
    opts.onDatagram?.();
    const verdict = parseReply(buf, { id, question, maxSize: MAX_UDP_REPLY });
    if (verdict.ok) {
      result.latencyMs = elapsed();
      finish({ reply: verdict.reply });
    } else if (verdict.kind === 'stray') {
      result.strays++;
    } else {
      result.rejected++;
      result.rejectReason = verdict.reason;
    }
  });
  socket.on('error', (err: NodeJS.ErrnoException) => {
    const code = err.code ?? err.message;
    if (code === 'ECONNREFUSED') finish({ final: new Final('refused', code) });
    else if (UNREACHABLE_CODES.has(code)) finish({ final: new Final('unreachable', code) });
    else finish({ final: new Final('error', code) });
  });

  try {
    // Connect errors (no route) arrive as an 'error' event, which settles the query.
    const connected = new Promise<void>((res) => socket.connect(port, opts.server, res));
    const failedFirst = settled.then(takeSettled);
    failedFirst.catch(() => {}); // observed by the race below; never unhandled
    await Promise.race([connected, failedFirst]);

    const reply = await pRetry(
      async (attempt) => {
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw new Final('timeout', 'deadline reached');
        if (done) return takeSettled(await settled);
        result.attempts = attempt;
        socket.send(message, (err) => {
          if (!err) return;
          const code = (err as NodeJS.ErrnoException).code ?? err.message;
          if (code === 'ECONNREFUSED') finish({ final: new Final('refused', code) });
          else if (UNREACHABLE_CODES.has(code)) finish({ final: new Final('unreachable', code) });
          else finish({ final: new Final('error', code) });
        });
        const tryMs = Math.min(remaining, timeoutMs * (TRY_GROWTH[attempt - 1] ?? TRY_GROWTH.at(-1)!));
        let timer: NodeJS.Timeout | undefined;
        const outcome = await Promise.race([
          settled,
          new Promise<'timeout'>((res) => (timer = setTimeout(() => res('timeout'), tryMs))),
        ]);
        clearTimeout(timer);
        if (outcome === 'timeout') throw new TryTimeout();
        return takeSettled(outcome);
      },
      {
        retries: attempts - 1,
        maxRetryTime: Math.max(0, deadline - Date.now()),
        // The wait is the try's own timeout; no extra pause before retransmitting.
        minTimeout: 0,
        factor: 1,
        shouldRetry: ({ error }) => error instanceof TryTimeout,
      },
    );

    result.outcome = 'answered';
    result.reply = reply;
    if (reply.flags.tc) await retryOverTcp(reply);
  } catch (err) {
    if (err instanceof Final) {
      result.outcome = err.outcome === 'timeout' && result.rejected > 0 ? 'malformed' : err.outcome;
      if (err.outcome !== 'timeout' && err.outcome !== 'aborted') result.error = err.message;
    } else if (err instanceof TryTimeout) {
      result.outcome = result.rejected > 0 ? 'malformed' : 'timeout';
    } else {
      result.outcome = 'error';
      result.error = (err as Error)?.message ?? String(err);
    }
    result.latencyMs = elapsed();
  } finally {
    offOuter();
    socket.removeAllListeners('message');
    // Late ICMP errors after close must not become unhandled 'error' events.
    socket.on('error', () => {});
    try {
      socket.close();
    } catch {
      // already closed
    }
  }
  return result;

  async function retryOverTcp(udpReply: DnsReply): Promise<void> {
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      result.error = 'tcp: no time left after a truncated UDP reply';
      return;
    }
    result.attempts++;
    const tcpId = randomInt(0x10000);
    const tcp = await tcpExchange({
      server: opts.server,
      port,
      message: encodeQuery({ id: tcpId, name: opts.name, type: opts.type, recursionDesired: opts.recursionDesired }),
      timeoutMs: Math.min(tcpTimeoutMs, remaining),
      signal: controller.signal,
    });
    if (tcp.ok) {
      const verdict = parseReply(tcp.message, { id: tcpId, question, maxSize: MAX_TCP_REPLY });
      if (verdict.ok) {
        result.reply = verdict.reply;
        result.transport = 'tcp';
        result.latencyMs = elapsed();
        return;
      }
      result.rejected++;
      result.rejectReason = verdict.reason;
      result.error = `tcp: ${verdict.detail}`;
    } else {
      result.error = `tcp: ${tcp.error}`;
    }
    // Keep the truncated UDP answer: it is still what the server said, flagged tc.
    result.reply = udpReply;
  }
}

function takeSettled(s: { reply?: DnsReply; final?: Final }): DnsReply {
  if (s.final) throw s.final;
  return s.reply!;
}

/**
 * One length-prefixed DNS message over TCP and its reply, within `timeoutMs`
 * for everything (connect, send, read). Reads at most one message.
 */
export async function tcpExchange(opts: {
  server: string;
  port: number;
  message: Buffer;
  timeoutMs: number;
  signal?: AbortSignal;
}): Promise<{ ok: true; message: Buffer } | { ok: false; error: string }> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: opts.server, port: opts.port });
    const chunks: Buffer[] = [];
    let length = 0;
    let expected = -1;
    let done = false;
    const end = (r: { ok: true; message: Buffer } | { ok: false; error: string }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      offAbort();
      socket.destroy();
      resolve(r);
    };
    let offAbort = () => {};
    const timer = setTimeout(() => end({ ok: false, error: `no reply within ${Math.round(opts.timeoutMs)} ms` }), opts.timeoutMs);
    offAbort = onAbort(opts.signal, () => end({ ok: false, error: 'aborted' }));
    if (done) return;
    socket.on('connect', () => {
      const prefix = Buffer.alloc(2);
      prefix.writeUInt16BE(opts.message.length);
      socket.write(Buffer.concat([prefix, opts.message]));
    });
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (expected < 0 && length >= 2) {
        const all = Buffer.concat(chunks);
        chunks.splice(0, chunks.length, all);
        expected = all.readUInt16BE(0);
        if (expected > MAX_TCP_REPLY) return end({ ok: false, error: `reply claims ${expected} bytes` });
      }
      if (expected >= 0 && length >= 2 + expected) end({ ok: true, message: Buffer.concat(chunks).subarray(2, 2 + expected) });
    });
    socket.on('end', () => end({ ok: false, error: 'connection closed before a whole reply' }));
    socket.on('error', (err: NodeJS.ErrnoException) => end({ ok: false, error: err.code ?? err.message }));
  });
}

/** Convenience for callers that only want addresses: A (or AAAA) values of an answered NOERROR reply, else []. */
export function addressesOf(result: DnsResult, type: 'A' | 'AAAA' = 'A'): string[] {
  if (result.outcome !== 'answered' || !result.reply || result.reply.rcode !== 0) return [];
  return answerValues(result.reply, type);
}
