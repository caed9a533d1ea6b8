/**
 * The gateway's own answer on UDP 5351: NAT-PMP (RFC 6886) external address
 * request, opcode 0, retransmitted at 250 ms doubling (§3.1) inside the
 * budget; when NAT-PMP is not answered, one PCP (RFC 6887) ANNOUNCE, which
 * says only that PCP is there (and its epoch). Read-only: never opcode 1/2
 * (map UDP/TCP) nor PCP MAP/PEER, which would open ports on the router.
 */
import dgram from 'node:dgram';
import { isIPv4 } from '../../shared/ipv4.js';

export const NATPMP_PORT = 5351;
/** NAT-PMP result codes (RFC 6886 §3.5). */
const NATPMP_RESULTS = ['success', 'unsupported-version', 'not-authorized', 'network-failure', 'out-of-resources', 'unsupported-opcode'];
/** PCP result codes (RFC 6887 §7.4), the first few. */
const PCP_RESULTS = ['success', 'unsupp-version', 'not-authorized', 'malformed-request', 'unsupp-opcode', 'unsupp-option', 'malformed-option', 'network-failure', 'no-resources', 'unsupp-protocol', 'user-ex-quota', 'cannot-provide-external', 'address-mismatch', 'excessive-remote-peers'];

export type GatewayAnswer =
  | { protocol: 'nat-pmp'; result: string; epochS: number; externalAddress?: string }
  | { protocol: 'pcp'; result: string; epochS: number; lifetimeS: number };

/** The 2-byte NAT-PMP external address request. */
export const NATPMP_REQUEST = Buffer.from([0, 0]);

/** A 24-byte PCP ANNOUNCE request (opcode 0, lifetime 0) from `client` (IPv4, as an IPv4-mapped IPv6 address). */
export function pcpAnnounce(client: string): Buffer {
  const b = Buffer.alloc(24);
  b[0] = 2;
  b[1] = 0;
  b.writeUInt16BE(0xffff, 18);
  if (isIPv4(client)) client.split('.').forEach((o, i) => (b[20 + i] = Number(o)));
  return b;
}

/**
 * Reads what came back from port 5351: a NAT-PMP external address answer
 * (version 0, opcode 128, 12 bytes), a NAT-PMP "unsupported version" answer
 * to a PCP request, or a PCP ANNOUNCE answer (version 2, opcode 0x80, ≥24
 * bytes). Undefined for anything else.
 */
export function parseGatewayAnswer(datagram: Uint8Array): GatewayAnswer | undefined {
  const b = Buffer.from(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  if (b.length < 8 || b.length > 1100) return undefined;
  if (b[0] === 0) {
    if (b[1] < 128) return undefined;
    const code = b.readUInt16BE(2);
    const result = NATPMP_RESULTS[code] ?? `code-${code}`;
    const epochS = b.readUInt32BE(4);
    if (b[1] !== 128) return { protocol: 'nat-pmp', result, epochS };
    if (code !== 0) return { protocol: 'nat-pmp', result, epochS };
    if (b.length < 12) return undefined;
    return { protocol: 'nat-pmp', result, epochS, externalAddress: `${b[8]}.${b[9]}.${b[10]}.${b[11]}` };
  }
  if (b[0] === 2) {
    if (b.length < 24 || b[1] !== 0x80) return undefined;
    const code = b[3];
    return { protocol: 'pcp', result: PCP_RESULTS[code] ?? `code-${code}`, lifetimeS: b.readUInt32BE(4), epochS: b.readUInt32BE(8) };
  }
  return undefined;
}

export interface GatewayAskOptions {
  gateway: string;
  /** This machine's LAN address, written into the PCP request. */
  localAddress?: string;
  timeoutMs: number;
  signal?: AbortSignal;
  port?: number;
}

/**
 * Asks NAT-PMP first (retransmitted), then PCP with what is left of the
 * budget. Resolves with the first readable answer, or undefined when neither
 * answered. Socket errors (ICMP port unreachable: nothing listens) end early.
 */
export async function askGateway(opts: GatewayAskOptions): Promise<{ answer?: GatewayAnswer; refused: boolean; elapsedMs: number }> {
  const started = performance.now();
  const half = Math.max(100, Math.floor(opts.timeoutMs * 0.6));
  const first = await exchange(opts, NATPMP_REQUEST, half, (a) => a.protocol === 'nat-pmp' && a.result !== 'unsupported-version');
  if (first.answer || opts.signal?.aborted) return { ...first, elapsedMs: Math.round(performance.now() - started) };
  const left = Math.max(100, opts.timeoutMs - (performance.now() - started));
  const second = await exchange(opts, pcpAnnounce(opts.localAddress ?? '0.0.0.0'), left, (a) => a.protocol === 'pcp');
  return { answer: second.answer, refused: first.refused && second.refused, elapsedMs: Math.round(performance.now() - started) };
}

function exchange(opts: GatewayAskOptions, request: Buffer, budgetMs: number, wanted: (a: GatewayAnswer) => boolean): Promise<{ answer?: GatewayAnswer; refused: boolean }> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    const timers: NodeJS.Timeout[] = [];
    let done = false;
    const finish = (r: { answer?: GatewayAnswer; refused: boolean }) => {
      if (done) return;
      done = true;
      timers.forEach(clearTimeout);
      opts.signal?.removeEventListener('abort', onAbort);
      socket.close();
      resolve(r);
    };
    const onAbort = () => finish({ refused: false });
    if (opts.signal?.aborted) return finish({ refused: false });
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('error', (err: NodeJS.ErrnoException) => finish({ refused: err.code === 'ECONNREFUSED' }));
    socket.on('message', (msg) => {
      const a = parseGatewayAnswer(msg);
      if (a && wanted(a)) finish({ answer: a, refused: false });
    });
    socket.connect(opts.port ?? NATPMP_PORT, opts.gateway, () => {
      // RFC 6886 §3.1: 250 ms, then doubling, as long as the budget lasts.
      const send = () => {
        if (done) return;
        try {
          socket.remoteAddress();
        } catch {
          return finish({ refused: false }); // the connect failed (no route from here, e.g. only a link-local address)
        }
        socket.send(request, () => undefined);
      };
      for (let at = 0, gap = 250; at < budgetMs; at += gap, gap *= 2) timers.push(setTimeout(send, at));
      timers.push(setTimeout(() => finish({ refused: false }), budgetMs));
    });
  });
}
