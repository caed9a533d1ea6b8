/**
 * One UDP question with retransmissions until an answer, an ICMP error, the
 * time limit or an abort: the transport under the OpenVPN and WireGuard
 * handshakes. The caller builds each packet and judges each datagram; this
 * file only moves bytes and keeps time. Resolves, never rejects.
 */
import dgram from 'node:dgram';

export type ExchangeOutcome = 'answered' | 'wrong-key' | 'refused' | 'host-unreachable' | 'no-reply' | 'no-route' | 'aborted' | 'error';

/** What a datagram was: our answer, a sign of another key (ends the wait), a reason to send again now, or noise. */
export type Verdict<T> =
  | { answer: true; value: T }
  | { answer: false; why: string; wrongKey?: boolean; resendNow?: boolean };

export interface UdpExchangeOptions<T> {
  address: string;
  port: number;
  timeoutMs: number;
  /** First retransmission after this many ms, doubling after. */
  retransmitMs?: number;
  signal?: AbortSignal;
  /** The packet for the nth send (1-based). */
  packet(attempt: number): Buffer;
  judge(msg: Buffer): Verdict<T>;
}

export interface UdpExchangeResult<T> {
  outcome: ExchangeOutcome;
  attempts: number;
  /** From the first send to the verdict, ms. */
  elapsedMs: number;
  rttMs?: number;
  value?: T;
  /** Datagrams that were not our answer, with the first reason. */
  ignored: number;
  ignoredWhy?: string;
  errorCode?: string;
  detail?: string;
}

const UNREACHABLE = new Set(['EHOSTUNREACH', 'EHOSTDOWN']);
const NO_ROUTE = new Set(['ENETUNREACH', 'EADDRNOTAVAIL', 'EINVAL']);

/** The outcome a socket error code stands for. */
export function outcomeOfError(code: string | undefined): ExchangeOutcome {
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET') return 'refused';
  if (code && UNREACHABLE.has(code)) return 'host-unreachable';
  if (code && NO_ROUTE.has(code)) return 'no-route';
  return 'error';
}

export function udpExchange<T>(opts: UdpExchangeOptions<T>): Promise<UdpExchangeResult<T>> {
  return new Promise((resolve) => {
    const started = performance.now();
    let attempts = 0;
    let ignored = 0;
    let ignoredWhy: string | undefined;
    let firstSend: number | undefined;
    let done = false;
    let retransmit: NodeJS.Timeout | undefined;
    const socket = dgram.createSocket('udp4');
    const since = () => performance.now() - (firstSend ?? started);

    const finish = (r: Partial<UdpExchangeResult<T>> & { outcome: ExchangeOutcome }) => {
      if (done) return;
      done = true;
      clearTimeout(retransmit);
      clearTimeout(overall);
      opts.signal?.removeEventListener('abort', onAbort);
      try {
        socket.close();
      } catch {
        // already closed
      }
      resolve({ attempts, ignored, ignoredWhy, elapsedMs: Math.round(since()), ...r });
    };
    const onAbort = () => finish({ outcome: 'aborted', detail: 'the run was cut before an answer came' });
    const overall = setTimeout(() => finish({ outcome: 'no-reply' }), Math.max(0, opts.timeoutMs));
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    const failed = (err: NodeJS.ErrnoException) => finish({ outcome: outcomeOfError(err.code), errorCode: err.code, detail: err.message });
    socket.on('error', failed);
    let gap = opts.retransmitMs ?? 1000;
    const send = () => {
      if (done) return;
      clearTimeout(retransmit);
      try {
        socket.remoteAddress();
      } catch {
        return; // the connect failed (no route from this machine, e.g. only a link-local address): its 'error' event says why
      }
      attempts++;
      firstSend ??= performance.now();
      socket.send(opts.packet(attempts), (err) => err && failed(err as NodeJS.ErrnoException));
      retransmit = setTimeout(send, gap);
      gap *= 2;
    };
    socket.on('message', (msg) => {
      const v = opts.judge(msg);
      const rttMs = Math.round(since() * 10) / 10;
      if (v.answer) return finish({ outcome: 'answered', value: v.value, rttMs });
      ignored++;
      ignoredWhy ??= v.why;
      if (v.wrongKey) finish({ outcome: 'wrong-key', rttMs, detail: v.why });
      else if (v.resendNow) send();
    });
    try {
      // Connected, so that ICMP errors (port/host unreachable) come back to this socket.
      socket.connect(opts.port, opts.address, send);
    } catch (err) {
      finish({ outcome: 'error', errorCode: (err as NodeJS.ErrnoException).code, detail: (err as Error).message });
    }
  });
}
