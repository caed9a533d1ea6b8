/**
 * OpenVPN control-channel encryption, `tls-crypt` (v1) and `tls-crypt-v2`, for
 * the one packet the VPN probe sends (the client hard reset) and the one it
 * reads back (the server's). Format (OpenVPN 2.5+, src/openvpn/tls_crypt.h):
 *
 *   header  = opcode<<3|key_id (1) · session id (8) · packet id (4) · net time (4)
 *   tag     = HMAC-SHA256(Ka, header ‖ plaintext)             32 bytes
 *   ciph    = AES-256-CTR(Ke, IV = tag[0..16], plaintext)
 *   packet  = header ‖ tag ‖ ciph
 *
 * The plaintext is the rest of a plain control packet: ack count, acked ids,
 * remote session id, message packet id, payload. The key file is a static key
 * (four 64-byte slots: cipher 0, HMAC 0, cipher 1, HMAC 1); the server sends
 * with slot pair 0 and the client with pair 1 (the direction is fixed by role).
 * Ke is the first 32 bytes of a cipher slot, Ka the first 32 of an HMAC slot.
 *
 * tls-crypt-v2: the client key file holds the client's own 256-byte key Kc
 * (used exactly as a v1 key) followed by WKc, that key wrapped with the
 * server's key; the client reset becomes P_CONTROL_HARD_RESET_CLIENT_V3 with
 * WKc appended after the wrapped packet. The server still answers with a v1-style
 * wrapped HARD_RESET_SERVER_V2.
 *
 * Nothing here throws on network bytes; no key byte is ever put in a message.
 */
import { createCipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import { judgeReply, OPCODE, parseStaticKey, SESSION_ID_BYTES, TlsAuthKeyError, type Judgement, type ResetWrap } from './openvpn.js';

export const OPCODE_HARD_RESET_CLIENT_V3 = 10;
export const TAG_BYTES = 32;
const PID_BYTES = 8;
export const HEADER_BYTES = 1 + SESSION_ID_BYTES + PID_BYTES;
const MAX_REPLY_BYTES = 2048;
const CLIENT_KEY_BYTES = 256;
/** TLS_CRYPT_V2_MAX_WKC_LEN: WKc is tag + Kc + metadata + 2-byte length, at most this long. */
const MAX_WKC_BYTES = 1024;

/** One direction's keys. Never logged. */
interface DirectionKeys {
  cipher: Buffer;
  hmac: Buffer;
}

/** The keys of one side of a tls-crypt session. */
export interface TlsCryptKeys {
  send: DirectionKeys;
  receive: DirectionKeys;
}

/** Splits a 256-byte static key for the client (sends with pair 1) or the server (pair 0). */
export function tlsCryptKeys(key: Buffer, role: 'client' | 'server' = 'client'): TlsCryptKeys {
  if (key.length !== CLIENT_KEY_BYTES) throw new TlsAuthKeyError(`key must be ${CLIENT_KEY_BYTES} bytes, got ${key.length}`);
  const pair = (n: 0 | 1): DirectionKeys => ({
    cipher: Buffer.from(key.subarray(n * 128, n * 128 + 32)),
    hmac: Buffer.from(key.subarray(n * 128 + 64, n * 128 + 96)),
  });
  return role === 'client' ? { send: pair(1), receive: pair(0) } : { send: pair(0), receive: pair(1) };
}

const V2_BEGIN = '-----BEGIN OpenVPN tls-crypt-v2 client key-----';
const V2_END = '-----END OpenVPN tls-crypt-v2 client key-----';

/** A tls-crypt-v2 client key (`openvpn --genkey tls-crypt-v2-client`): Kc and the wrapped WKc. */
export function parseTlsCryptV2ClientKey(text: string): { key: Buffer; wkc: Buffer } {
  const start = text.indexOf(V2_BEGIN);
  const end = start < 0 ? -1 : text.indexOf(V2_END, start);
  if (start < 0 || end < 0) {
    throw new TlsAuthKeyError(`is not a tls-crypt-v2 client key (expected a "${V2_BEGIN}" … "${V2_END}" block, as written by openvpn --genkey tls-crypt-v2-client)`);
  }
  const b64 = text.slice(start + V2_BEGIN.length, end).replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new TlsAuthKeyError('is not a tls-crypt-v2 client key (the key block is not base64)');
  const raw = Buffer.from(b64, 'base64');
  const wkcBytes = raw.length - CLIENT_KEY_BYTES;
  // WKc ends with its own length (2 bytes, big-endian), which must cover all of it.
  if (wkcBytes < TAG_BYTES + 2 || wkcBytes > MAX_WKC_BYTES || raw.readUInt16BE(raw.length - 2) !== wkcBytes) {
    throw new TlsAuthKeyError(`is not a tls-crypt-v2 client key (${raw.length} bytes do not hold a ${CLIENT_KEY_BYTES}-byte key and its wrapped copy)`);
  }
  return { key: Buffer.from(raw.subarray(0, CLIENT_KEY_BYTES)), wkc: Buffer.from(raw.subarray(CLIENT_KEY_BYTES)) };
}

/** A v1 key file (`openvpn --genkey tls-crypt`, the static key format) for the client. */
export function tlsCryptKeysFromFile(text: string): TlsCryptKeys {
  return tlsCryptKeys(parseStaticKey(text), 'client');
}

function tagOf(hmacKey: Buffer, header: Uint8Array, plaintext: Uint8Array): Buffer {
  return createHmac('sha256', hmacKey).update(header).update(plaintext).digest();
}

function ctr(cipherKey: Buffer, tag: Uint8Array, data: Uint8Array): Buffer {
  const c = createCipheriv('aes-256-ctr', cipherKey, tag.subarray(0, 16));
  return Buffer.concat([c.update(data), c.final()]);
}

/** Wraps a plaintext under `header` (opcode, session id, packet id, time) with our send keys. */
export function wrap(keys: TlsCryptKeys, header: Buffer, plaintext: Buffer): Buffer {
  if (header.length !== HEADER_BYTES) throw new RangeError(`header must be ${HEADER_BYTES} bytes`);
  const tag = tagOf(keys.send.hmac, header, plaintext);
  return Buffer.concat([header, tag, ctr(keys.send.cipher, tag, plaintext)]);
}

export type Unwrapped = { ok: true; header: Buffer; plaintext: Buffer } | { ok: false; why: string; badTag?: boolean };

/** Decrypts and verifies a packet with our receive keys. Bounded; never throws. */
export function unwrap(keys: TlsCryptKeys, buf: Uint8Array): Unwrapped {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length > MAX_REPLY_BYTES) return { ok: false, why: `reply of ${b.length} bytes is too long for a reset` };
  if (b.length < HEADER_BYTES + TAG_BYTES) return { ok: false, why: `reply of ${b.length} bytes is too short for tls-crypt` };
  const header = b.subarray(0, HEADER_BYTES);
  const tag = b.subarray(HEADER_BYTES, HEADER_BYTES + TAG_BYTES);
  const plaintext = ctr(keys.receive.cipher, tag, b.subarray(HEADER_BYTES + TAG_BYTES));
  if (!timingSafeEqual(tag, tagOf(keys.receive.hmac, header, plaintext))) {
    return { ok: false, why: 'the reply\'s tls-crypt tag does not verify with the configured key', badTag: true };
  }
  return { ok: true, header: Buffer.from(header), plaintext };
}

/** A client reset wrapped with tls-crypt; with `wkc`, the v2 form (CLIENT_V3, WKc appended). */
export function encodeTlsCryptReset(keys: TlsCryptKeys, sessionId: Buffer, packetId: number, time: number, wkc?: Buffer): Buffer {
  if (sessionId.length !== SESSION_ID_BYTES) throw new RangeError(`session id must be ${SESSION_ID_BYTES} bytes`);
  const header = Buffer.alloc(HEADER_BYTES);
  header[0] = (wkc ? OPCODE_HARD_RESET_CLIENT_V3 : OPCODE.CONTROL_HARD_RESET_CLIENT_V2) << 3;
  sessionId.copy(header, 1);
  header.writeUInt32BE(packetId >>> 0, 1 + SESSION_ID_BYTES);
  header.writeUInt32BE(time >>> 0, 1 + SESSION_ID_BYTES + 4);
  // Empty ack array, then our first message packet id (0).
  const wrapped = wrap(keys, header, Buffer.from([0, 0, 0, 0, 0]));
  return wkc ? Buffer.concat([wrapped, wkc]) : wrapped;
}

/** The smallest wrapped HARD_RESET_SERVER_V2 that acknowledges a reset: one ack, our session, message id. */
const MIN_SERVER_RESET_BYTES = HEADER_BYTES + TAG_BYTES + 1 + 4 + SESSION_ID_BYTES + 4;

/**
 * "The server answered us" for tls-crypt: the reply unwraps with our key and,
 * unwrapped, is the reset judgeReply accepts. A reply shaped like a server
 * reset (opcode, key id 0, long enough) whose tag fails is `wrongKey`: some
 * OpenVPN answered, but not with the key in the config.
 */
export function judgeTlsCryptReply(buf: Uint8Array, sessionId: Buffer, keys: TlsCryptKeys): Judgement {
  const u = unwrap(keys, buf);
  if (!u.ok) {
    const looksLikeReset = buf.length >= MIN_SERVER_RESET_BYTES && buf[0] === OPCODE.CONTROL_HARD_RESET_SERVER_V2 << 3;
    return { answer: false, why: u.why, wrongKey: u.badTag && looksLikeReset ? true : undefined };
  }
  // Unwrapped, the packet is a plain control packet without its replay fields.
  return judgeReply(Buffer.concat([u.header.subarray(0, 1 + SESSION_ID_BYTES), u.plaintext]), sessionId);
}

/** The ResetWrap the handshake transport uses for tls-crypt (v1, or v2 with `wkc`). */
export function tlsCryptWrap(keys: TlsCryptKeys, wkc?: Buffer): ResetWrap {
  return {
    kind: wkc ? 'tls-crypt-v2' : 'tls-crypt',
    encodeReset: (sessionId, packetId, time) => encodeTlsCryptReset(keys, sessionId, packetId, time, wkc),
    judge: (buf, sessionId) => judgeTlsCryptReply(buf, sessionId, keys),
  };
}
