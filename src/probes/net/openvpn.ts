/**
 * A credential-less OpenVPN liveness check: the first packet of a TLS-mode
 * session (P_CONTROL_HARD_RESET_CLIENT_V2) and nothing more. A live server
 * answers with P_CONTROL_HARD_RESET_SERVER_V2 that acknowledges our packet and
 * names our session id; no certificate is needed to get that far, and no TLS
 * is ever started, so the server never holds more than a half-open session.
 *
 * Wire format (control channel, OpenVPN 2.x; multi-byte fields big-endian):
 *
 *   opcode<<3 | key_id        1
 *   session id                8
 *   [tls-auth: HMAC           digest size (SHA1 20 … SHA512 64)
 *              packet id      4   replay counter, from 1
 *              net time       4   unix seconds]
 *   ack count n               1
 *   acked message ids         4·n
 *   remote session id         8   (only when n > 0)
 *   message packet id         4
 *   payload                   (empty for the resets)
 *
 * The tls-auth HMAC covers the packet with the HMAC itself cut out and the
 * replay fields moved to the front: packet id, net time, opcode byte, session
 * id, then the rest. Over TCP every packet is preceded by its length (2 bytes).
 *
 * Nothing here throws on what the network sends: a reply that is short, long,
 * of another opcode, for another session or badly signed is ignored (and
 * counted), never trusted and never fatal.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import { outcomeOfError, udpExchange, type ExchangeOutcome } from './udp-exchange.js';

export const OPCODE = {
  CONTROL_V1: 4,
  ACK_V1: 5,
  CONTROL_HARD_RESET_CLIENT_V2: 7,
  CONTROL_HARD_RESET_SERVER_V2: 8,
} as const;

export const SESSION_ID_BYTES = 8;
/** An unsigned client reset: opcode, session id, empty ack array, message id. */
export const PLAIN_CLIENT_RESET_BYTES = 1 + SESSION_ID_BYTES + 1 + 4;
/** OpenVPN never acknowledges more than this many ids in one packet (RELIABLE_ACK_SIZE). */
const MAX_ACKS = 8;
/** Far above any reset OpenVPN sends; anything longer is not an answer to us. */
const MAX_REPLY_BYTES = 2048;

export type TlsAuthDigest = 'SHA1' | 'SHA256' | 'SHA384' | 'SHA512';
const DIGEST_BYTES: Record<TlsAuthDigest, number> = { SHA1: 20, SHA256: 32, SHA384: 48, SHA512: 64 };

/** What signing needs: the two HMAC keys as the key direction picks them. Never logged. */
export interface TlsAuth {
  digest: TlsAuthDigest;
  hmacBytes: number;
  /** Our outgoing HMAC key. */
  sendKey: Buffer;
  /** The server's outgoing HMAC key, to check its reply. */
  receiveKey: Buffer;
}

export class TlsAuthKeyError extends Error {
  override name = 'TlsAuthKeyError';
}

const KEY_BEGIN = '-----BEGIN OpenVPN Static key V1-----';
const KEY_END = '-----END OpenVPN Static key V1-----';
const STATIC_KEY_BYTES = 256;

/**
 * The 256 key bytes of an OpenVPN static key (`openvpn --genkey secret ta.key`),
 * from a key file or a client config with an inline `<tls-auth>` block. The
 * error message never quotes the key material.
 */
export function parseStaticKey(text: string): Buffer {
  const start = text.indexOf(KEY_BEGIN);
  const end = start < 0 ? -1 : text.indexOf(KEY_END, start);
  if (start < 0 || end < 0) {
    throw new TlsAuthKeyError(`is not an OpenVPN static key (expected a "${KEY_BEGIN}" … "${KEY_END}" block, as written by openvpn --genkey secret)`);
  }
  const hex = text.slice(start + KEY_BEGIN.length, end).replace(/\s+/g, '');
  if (!/^[0-9a-fA-F]*$/.test(hex)) throw new TlsAuthKeyError('is not an OpenVPN static key (the key block holds characters other than hex digits)');
  if (hex.length !== STATIC_KEY_BYTES * 2) {
    throw new TlsAuthKeyError(`is not an OpenVPN static key (the key block holds ${hex.length / 2} bytes, expected ${STATIC_KEY_BYTES})`);
  }
  return Buffer.from(hex, 'hex');
}

/**
 * Picks the HMAC keys out of a static key. The key is four 64-byte slots:
 * cipher 0, HMAC 0, cipher 1, HMAC 1. `key-direction 0` sends with HMAC 0 and
 * receives with HMAC 1, direction 1 the other way round; without a direction
 * both sides use HMAC 0. Each HMAC key is the first digest-size bytes of its slot.
 */
export function tlsAuthFromKey(key: Buffer, direction: 0 | 1 | undefined, digest: TlsAuthDigest = 'SHA1'): TlsAuth {
  if (key.length !== STATIC_KEY_BYTES) throw new TlsAuthKeyError(`key must be ${STATIC_KEY_BYTES} bytes, got ${key.length}`);
  const hmacBytes = DIGEST_BYTES[digest];
  const slot = (n: 0 | 1) => Buffer.from(key.subarray(n * 128 + 64, n * 128 + 64 + hmacBytes));
  const out = direction === 1 ? 1 : 0;
  const inn = direction === undefined ? 0 : direction === 1 ? 0 : 1;
  return { digest, hmacBytes, sendKey: slot(out), receiveKey: slot(inn) };
}

function hmac(auth: TlsAuth, key: Buffer, parts: Buffer[]): Buffer {
  const h = createHmac(auth.digest.toLowerCase(), key);
  for (const p of parts) h.update(p);
  return h.digest();
}

export interface ClientResetOptions {
  sessionId: Buffer;
  keyId?: number;
  /** When given, the packet carries a tls-auth HMAC with these replay fields. */
  tlsAuth?: { auth: TlsAuth; packetId: number; time: number };
}

/** Encodes P_CONTROL_HARD_RESET_CLIENT_V2 (14 bytes unsigned; +HMAC+8 signed). */
export function encodeClientReset(opts: ClientResetOptions): Buffer {
  if (opts.sessionId.length !== SESSION_ID_BYTES) throw new RangeError(`session id must be ${SESSION_ID_BYTES} bytes`);
  const head = Buffer.alloc(1 + SESSION_ID_BYTES);
  head[0] = (OPCODE.CONTROL_HARD_RESET_CLIENT_V2 << 3) | ((opts.keyId ?? 0) & 7);
  opts.sessionId.copy(head, 1);
  // Empty ack array, then our first message packet id (0).
  const rest = Buffer.from([0, 0, 0, 0, 0]);
  if (!opts.tlsAuth) return Buffer.concat([head, rest]);
  const { auth, packetId, time } = opts.tlsAuth;
  const replay = Buffer.alloc(8);
  replay.writeUInt32BE(packetId >>> 0, 0);
  replay.writeUInt32BE(time >>> 0, 4);
  const mac = hmac(auth, auth.sendKey, [replay, head, rest]);
  return Buffer.concat([head, mac, replay, rest]);
}

/** TCP framing: a 2-byte big-endian length before every packet. */
export function frameTcp(packet: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(packet.length);
  return Buffer.concat([len, packet]);
}

export interface ServerPacket {
  opcode: number;
  keyId: number;
  sessionId: Buffer;
  acks: number[];
  remoteSessionId?: Buffer;
  messageId?: number;
  payloadBytes: number;
  /** For tls-auth: the replay fields the server sent, and whether its HMAC checked out. */
  packetId?: number;
  time?: number;
  hmacValid?: boolean;
}

export type ParseResult = { ok: true; packet: ServerPacket } | { ok: false; why: string };

/**
 * Parses one control packet from the server. With `tlsAuth` it expects (and
 * verifies) the HMAC header; without it, the plain layout. Bounded: every read
 * is checked against the length first; it returns `{ok:false}` instead of
 * throwing, whatever the bytes.
 */
export function parseServerPacket(buf: Uint8Array, tlsAuth?: TlsAuth): ParseResult {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length > MAX_REPLY_BYTES) return { ok: false, why: `reply of ${b.length} bytes is too long for a reset` };
  let off = 0;
  const need = (n: number) => off + n <= b.length;
  if (!need(1 + SESSION_ID_BYTES)) return { ok: false, why: `reply of ${b.length} bytes is too short` };
  const opcode = b[0] >> 3;
  const keyId = b[0] & 7;
  off = 1;
  const sessionId = Buffer.from(b.subarray(off, off + SESSION_ID_BYTES));
  off += SESSION_ID_BYTES;
  if (opcode !== OPCODE.CONTROL_HARD_RESET_SERVER_V2 && opcode !== OPCODE.CONTROL_V1 && opcode !== OPCODE.ACK_V1 && opcode !== OPCODE.CONTROL_HARD_RESET_CLIENT_V2) {
    return { ok: false, why: `opcode ${opcode} is not a control-channel packet` };
  }
  let packetId: number | undefined;
  let time: number | undefined;
  let hmacValid: boolean | undefined;
  if (tlsAuth) {
    if (!need(tlsAuth.hmacBytes + 8)) return { ok: false, why: 'reply too short for a tls-auth header' };
    const mac = b.subarray(off, off + tlsAuth.hmacBytes);
    off += tlsAuth.hmacBytes;
    packetId = b.readUInt32BE(off);
    time = b.readUInt32BE(off + 4);
    const replay = b.subarray(off, off + 8);
    off += 8;
    const expected = hmac(tlsAuth, tlsAuth.receiveKey, [replay, b.subarray(0, 1 + SESSION_ID_BYTES), b.subarray(off)]);
    hmacValid = expected.length === mac.length && timingSafeEqual(expected, mac);
  }
  if (!need(1)) return { ok: false, why: 'reply ends before its ack count' };
  const ackCount = b[off];
  off += 1;
  if (ackCount > MAX_ACKS) return { ok: false, why: `ack count ${ackCount} is more than OpenVPN ever sends (${MAX_ACKS})` };
  if (!need(ackCount * 4)) return { ok: false, why: 'reply ends inside its ack array' };
  const acks: number[] = [];
  for (let i = 0; i < ackCount; i++, off += 4) acks.push(b.readUInt32BE(off));
  let remoteSessionId: Buffer | undefined;
  if (ackCount > 0) {
    if (!need(SESSION_ID_BYTES)) return { ok: false, why: 'reply ends inside the remote session id' };
    remoteSessionId = Buffer.from(b.subarray(off, off + SESSION_ID_BYTES));
    off += SESSION_ID_BYTES;
  }
  let messageId: number | undefined;
  if (opcode !== OPCODE.ACK_V1) {
    if (!need(4)) return { ok: false, why: 'reply ends before its message packet id' };
    messageId = b.readUInt32BE(off);
    off += 4;
  }
  return {
    ok: true,
    packet: { opcode, keyId, sessionId, acks, remoteSessionId, messageId, payloadBytes: b.length - off, packetId, time, hmacValid },
  };
}

/** `wrongKey`: an OpenVPN answered, but its reply does not verify with the configured key. */
export type Judgement = { answer: true; serverSessionId: string } | { answer: false; why: string; wrongKey?: boolean };

/** How the client reset is protected (tls-crypt, tls-crypt-v2) and its reply checked. Never logs key bytes. */
export interface ResetWrap {
  kind: 'tls-crypt' | 'tls-crypt-v2';
  encodeReset(sessionId: Buffer, packetId: number, time: number): Buffer;
  judge(buf: Uint8Array, sessionId: Buffer): Judgement;
}

/**
 * The one test of "the server answered us": a HARD_RESET_SERVER_V2 that
 * acknowledges our reset and names our session id (and, with tls-auth, is
 * signed with the server's key).
 */
export function judgeReply(buf: Uint8Array, sessionId: Buffer, tlsAuth?: TlsAuth): Judgement {
  const parsed = parseServerPacket(buf, tlsAuth);
  if (!parsed.ok) return { answer: false, why: parsed.why };
  const p = parsed.packet;
  if (p.opcode !== OPCODE.CONTROL_HARD_RESET_SERVER_V2) return { answer: false, why: `opcode ${p.opcode}, not HARD_RESET_SERVER_V2` };
  // A hard reset always starts key 0; any other key id is not a reply to our reset.
  if (p.keyId !== 0) return { answer: false, why: `key id ${p.keyId} on a hard reset` };
  if (tlsAuth && !p.hmacValid) return { answer: false, why: 'the reply\'s tls-auth HMAC does not verify with the configured key' };
  if (!p.remoteSessionId || !p.remoteSessionId.equals(sessionId)) return { answer: false, why: 'the reply is for another session' };
  if (!p.acks.includes(0)) return { answer: false, why: 'the reply does not acknowledge our reset' };
  return { answer: true, serverSessionId: p.sessionId.toString('hex') };
}

// ---------------------------------------------------------------------------
// Transport

export type HandshakeOutcome = ExchangeOutcome;

export interface HandshakeOptions {
  address: string;
  port: number;
  proto: 'udp' | 'tcp';
  tlsAuth?: TlsAuth;
  /** tls-crypt or tls-crypt-v2 instead of tls-auth. */
  wrap?: ResetWrap;
  /** How long to wait for an answer in all, ms. */
  timeoutMs: number;
  /** UDP: first retransmission after this many ms, doubling after. */
  retransmitMs?: number;
  signal?: AbortSignal;
}

export interface HandshakeResult {
  outcome: HandshakeOutcome;
  address: string;
  port: number;
  proto: 'udp' | 'tcp';
  signed: boolean;
  /** Resets sent (UDP retransmits included). */
  attempts: number;
  /** Time from the first reset sent to the answer (or to the verdict), ms. */
  elapsedMs: number;
  rttMs?: number;
  serverSessionId?: string;
  /** Packets that arrived but were not an answer to us, with the first reason. */
  ignored: number;
  ignoredWhy?: string;
  /** The socket error behind refused/unreachable/error, e.g. `ECONNREFUSED`. */
  errorCode?: string;
  detail?: string;
}

/** Sends a client reset and waits for the server's. Resolves, never rejects. */
export function openvpnHandshake(opts: HandshakeOptions): Promise<HandshakeResult> {
  return opts.proto === 'tcp' ? tcpHandshake(opts) : udpHandshake(opts);
}

interface Session {
  sessionId: Buffer;
  nextPacket(): Buffer;
  judge(buf: Uint8Array): Judgement;
}

function newSession({ tlsAuth, wrap }: HandshakeOptions): Session {
  let sessionId = randomBytes(SESSION_ID_BYTES);
  while (sessionId.every((x) => x === 0)) sessionId = randomBytes(SESSION_ID_BYTES);
  // The tls-auth replay counter must grow with every retransmission, or the server drops the copy as a replay.
  let packetId = 1;
  return {
    sessionId,
    nextPacket: () => {
      const time = Math.floor(Date.now() / 1000);
      if (wrap) return wrap.encodeReset(sessionId, packetId++, time);
      return encodeClientReset({ sessionId, tlsAuth: tlsAuth && { auth: tlsAuth, packetId: packetId++, time } });
    },
    judge: (buf) => (wrap ? wrap.judge(buf, sessionId) : judgeReply(buf, sessionId, tlsAuth)),
  };
}

async function udpHandshake(opts: HandshakeOptions): Promise<HandshakeResult> {
  const session = newSession(opts);
  const r = await udpExchange({
    ...opts,
    packet: () => session.nextPacket(),
    judge: (msg) => {
      const j = session.judge(msg);
      return j.answer ? { answer: true, value: j.serverSessionId } : j;
    },
  });
  const { value, ...rest } = r;
  return { address: opts.address, port: opts.port, proto: 'udp', signed: !!(opts.tlsAuth || opts.wrap), ...rest, serverSessionId: value };
}

function tcpHandshake(opts: HandshakeOptions): Promise<HandshakeResult> {
  return new Promise((resolve) => {
    const session = newSession(opts);
    const started = performance.now();
    const base = { address: opts.address, port: opts.port, proto: 'tcp' as const, signed: !!(opts.tlsAuth || opts.wrap) };
    let attempts = 0;
    let ignored = 0;
    let ignoredWhy: string | undefined;
    let sentAt: number | undefined;
    let done = false;
    let pending = Buffer.alloc(0);
    const socket = new net.Socket();

    const finish = (r: Partial<HandshakeResult> & { outcome: HandshakeOutcome }) => {
      if (done) return;
      done = true;
      clearTimeout(overall);
      opts.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve({ ...base, attempts, ignored, ignoredWhy, elapsedMs: Math.round(performance.now() - started), ...r });
    };
    const onAbort = () => finish({ outcome: 'aborted', detail: 'the run was cut before an answer came' });
    const overall = setTimeout(
      () => finish({ outcome: 'no-reply', detail: sentAt === undefined ? 'the TCP connection was not accepted in time' : undefined }),
      Math.max(0, opts.timeoutMs),
    );
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    socket.on('error', (err: NodeJS.ErrnoException) => {
      // A reset after our packet went out is how a tls-auth server drops an unsigned one: silence, not "nothing listens".
      if (sentAt !== undefined && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) {
        finish({ outcome: 'no-reply', errorCode: err.code, detail: 'the server closed the connection without answering' });
      } else {
        finish({ outcome: outcomeOfError(err.code), errorCode: err.code, detail: err.message });
      }
    });
    socket.on('close', () => finish({ outcome: 'no-reply', detail: 'the server closed the connection without answering' }));
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2) {
        const len = pending.readUInt16BE(0);
        if (len === 0 || len > MAX_REPLY_BYTES) return finish({ outcome: 'error', detail: `the server sent a ${len}-byte frame; not OpenVPN` });
        if (pending.length < 2 + len) break;
        const frame = pending.subarray(2, 2 + len);
        pending = Buffer.from(pending.subarray(2 + len));
        const j = session.judge(frame);
        const rttMs = Math.round((performance.now() - (sentAt ?? started)) * 10) / 10;
        if (j.answer) return finish({ outcome: 'answered', serverSessionId: j.serverSessionId, rttMs });
        ignored++;
        ignoredWhy ??= j.why;
        if (j.wrongKey) return finish({ outcome: 'wrong-key', rttMs, detail: j.why });
      }
      if (pending.length > MAX_REPLY_BYTES) finish({ outcome: 'error', detail: 'the server sent more than a reset without answering' });
    });
    socket.connect({ host: opts.address, port: opts.port }, () => {
      attempts = 1;
      sentAt = performance.now();
      socket.write(frameTcp(session.nextPacket()));
    });
  });
}
