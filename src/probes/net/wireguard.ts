/**
 * A WireGuard liveness check as a configured peer: one Handshake Initiation
 * (Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s, with mac1; with mac2 once the server
 * sent a Cookie Reply because it is under load), and the Handshake Response
 * verified down to its empty AEAD. No data packet is ever sent and no interface
 * is brought up: the server keeps a session nobody uses, which it drops itself.
 *
 * Messages (little-endian indexes; whitepaper §5.4, wireguard-go device/noise-protocol.go):
 *   initiation 148 = type 1 ·3 zero · sender · ephemeral 32 · static 32+16 · timestamp 12+16 · mac1 16 · mac2 16
 *   response    92 = type 2 ·3 zero · sender · receiver · ephemeral 32 · empty 0+16 · mac1 16 · mac2 16
 *   cookie      64 = type 3 ·3 zero · receiver · nonce 24 · cookie 16+16
 *
 * A server that does not know our public key, or whose key is not the
 * configured one, stays silent (mac1 or the peer lookup fails): silence is
 * never "down". A response that names our index and carries a valid mac1 but
 * fails its AEAD is `wrongKey` (the preshared key differs).
 *
 * Nothing here throws on network bytes; no key byte is ever put in a message.
 */
import { createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { blake2s } from '@noble/hashes/blake2.js';
import { hmac } from '@noble/hashes/hmac.js';
import { udpExchange, type UdpExchangeOptions, type UdpExchangeResult, type Verdict } from './udp-exchange.js';

export const MESSAGE = { INITIATION: 1, RESPONSE: 2, COOKIE_REPLY: 3 } as const;
export const INITIATION_BYTES = 148;
export const RESPONSE_BYTES = 92;
export const COOKIE_REPLY_BYTES = 64;
const KEY_BYTES = 32;
const MAC_BYTES = 16;
const TAG_BYTES = 16;

const CONSTRUCTION = 'Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s';
const IDENTIFIER = 'WireGuard v1 zx2c4 Jason@zx2c4.com';
const LABEL_MAC1 = 'mac1----';
const LABEL_COOKIE = 'cookie--';
/** TAI64N label: 2^62 + 10 seconds. */
const TAI64_BASE = 0x400000000000000an;

export class WireGuardKeyError extends Error {
  override name = 'WireGuardKeyError';
}

const cat = (...parts: Uint8Array[]): Buffer => Buffer.concat(parts);
const hash = (...parts: Uint8Array[]): Buffer => Buffer.from(blake2s(cat(...parts)));
const mac = (key: Uint8Array, data: Uint8Array) => Buffer.from(blake2s(data, { key, dkLen: MAC_BYTES }));
const hmacB = (key: Uint8Array, data: Uint8Array) => Buffer.from(hmac(blake2s, key, data));
const text = (s: string) => Buffer.from(s, 'ascii');

/** HKDF over HMAC-BLAKE2s, as WireGuard's KDFn: n outputs of 32 bytes. */
export function kdf(n: 1 | 2 | 3, chainKey: Uint8Array, input: Uint8Array): Buffer[] {
  const t0 = hmacB(chainKey, input);
  const out: Buffer[] = [];
  let prev = Buffer.alloc(0);
  for (let i = 1; i <= n; i++) {
    prev = hmacB(t0, cat(prev, Buffer.from([i])));
    out.push(prev);
  }
  return out;
}

/** ChaCha20-Poly1305 with WireGuard's nonce: 4 zero bytes, then a 64-bit little-endian counter (always 0 here). */
function seal(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Buffer {
  const c = createCipheriv('chacha20-poly1305', key, Buffer.alloc(12), { authTagLength: TAG_BYTES });
  c.setAAD(aad, { plaintextLength: plaintext.length });
  return cat(c.update(plaintext), c.final(), c.getAuthTag());
}

/** Decrypts and authenticates; undefined when the tag fails. */
function open(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array, nonce: Buffer = Buffer.alloc(12)): Buffer | undefined {
  if (sealed.length < TAG_BYTES) return undefined;
  const body = sealed.subarray(0, sealed.length - TAG_BYTES);
  const d = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_BYTES });
  d.setAAD(aad, { plaintextLength: body.length });
  d.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  try {
    return cat(d.update(body), d.final());
  } catch {
    return undefined;
  }
}

const rotl = (x: number, n: number) => ((x << n) | (x >>> (32 - n))) >>> 0;

/** HChaCha20 (draft-irtf-cfrg-xchacha §2.2): the XChaCha20 subkey from a key and the first 16 nonce bytes. */
export function hchacha20(key: Uint8Array, nonce16: Uint8Array): Buffer {
  const k = Buffer.from(key);
  const n = Buffer.from(nonce16);
  const s = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574];
  for (let i = 0; i < 8; i++) s.push(k.readUInt32LE(i * 4));
  for (let i = 0; i < 4; i++) s.push(n.readUInt32LE(i * 4));
  const qr = (a: number, b: number, c: number, d: number) => {
    s[a] = (s[a] + s[b]) >>> 0; s[d] = rotl(s[d] ^ s[a], 16);
    s[c] = (s[c] + s[d]) >>> 0; s[b] = rotl(s[b] ^ s[c], 12);
    s[a] = (s[a] + s[b]) >>> 0; s[d] = rotl(s[d] ^ s[a], 8);
    s[c] = (s[c] + s[d]) >>> 0; s[b] = rotl(s[b] ^ s[c], 7);
  };
  for (let i = 0; i < 10; i++) {
    qr(0, 4, 8, 12); qr(1, 5, 9, 13); qr(2, 6, 10, 14); qr(3, 7, 11, 15);
    qr(0, 5, 10, 15); qr(1, 6, 11, 12); qr(2, 7, 8, 13); qr(3, 4, 9, 14);
  }
  const out = Buffer.alloc(32);
  [0, 1, 2, 3, 12, 13, 14, 15].forEach((w, i) => out.writeUInt32LE(s[w], i * 4));
  return out;
}

/** XChaCha20-Poly1305 open (the Cookie Reply's cipher): HChaCha20 subkey, then ChaCha20-Poly1305 with the nonce's last 8 bytes. */
function xopen(key: Uint8Array, nonce24: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Buffer | undefined {
  return open(hchacha20(key, nonce24.subarray(0, 16)), sealed, aad, cat(Buffer.alloc(4), nonce24.subarray(16, 24)));
}

// ---------------------------------------------------------------------------
// Keys

const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');

/** A WireGuard key as `wg genkey`/`wg pubkey` print it: 32 bytes in base64. The error never quotes it. */
export function parseKey(b64: string, what: string): Buffer {
  const t = b64.trim();
  const raw = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/.test(t) ? Buffer.from(t, 'base64') : undefined;
  if (!raw || raw.length !== KEY_BYTES) throw new WireGuardKeyError(`${what} is not a WireGuard key (expected 44 characters of base64, as wg genkey and wg pubkey print)`);
  return raw;
}

const privateKeyObject = (raw: Uint8Array): KeyObject => createPrivateKey({ key: cat(PKCS8_X25519, raw), format: 'der', type: 'pkcs8' });
const publicKeyObject = (raw: Uint8Array): KeyObject => createPublicKey({ key: cat(SPKI_X25519, raw), format: 'der', type: 'spki' });
const rawPublic = (k: KeyObject) => Buffer.from(k.export({ format: 'der', type: 'spki' }).subarray(SPKI_X25519.length));

/** The public key of a private key (what `wg pubkey` prints), raw. */
export function publicKeyOf(privateKey: Uint8Array): Buffer {
  return rawPublic(createPublicKey(privateKeyObject(privateKey)));
}

/** A fresh key pair (`wg genkey | wg pubkey`), raw. */
export function generateKeyPair(): { privateKey: Buffer; publicKey: Buffer } {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  return { privateKey: Buffer.from(der.subarray(PKCS8_X25519.length)), publicKey: rawPublic(publicKey) };
}

function dh(privateKey: KeyObject, publicRaw: Uint8Array): Buffer | undefined {
  try {
    const ss = diffieHellman({ privateKey, publicKey: publicKeyObject(publicRaw) });
    // An all-zero result is a low-order point: WireGuard refuses it.
    return ss.every((x) => x === 0) ? undefined : ss;
  } catch {
    return undefined;
  }
}

/** netdoctor as a WireGuard peer of the server. Never logged. */
export interface WireGuardPeer {
  privateKey: Buffer;
  publicKey: Buffer;
  serverPublicKey: Buffer;
  presharedKey?: Buffer;
}

export function wireguardPeer(privateKey: Buffer, serverPublicKey: Buffer, presharedKey?: Buffer): WireGuardPeer {
  return { privateKey, publicKey: publicKeyOf(privateKey), serverPublicKey, presharedKey };
}

// ---------------------------------------------------------------------------
// Handshake

/** The initiator's state after one Handshake Initiation. */
export interface Initiation {
  packet: Buffer;
  senderIndex: number;
  ephemeral: KeyObject;
  chainKey: Buffer;
  hash: Buffer;
  mac1: Buffer;
}

/** TAI64N of `ms` (a unix time in ms, fractional allowed). */
export function tai64n(ms: number): Buffer {
  const out = Buffer.alloc(12);
  const secs = Math.floor(ms / 1000);
  out.writeBigUInt64BE(TAI64_BASE + BigInt(secs));
  out.writeUInt32BE(Math.min(999_999_999, Math.floor((ms - secs * 1000) * 1e6)), 8);
  return out;
}

export interface InitiationOptions {
  senderIndex?: number;
  /** Unix time in ms for the timestamp; the server only takes one later than the last it took from us. */
  nowMs?: number;
  /** The cookie from a Cookie Reply: mac2 is then set. */
  cookie?: Buffer;
  /** For test vectors only. */
  ephemeralPrivate?: Buffer;
}

export function createInitiation(peer: WireGuardPeer, opts: InitiationOptions = {}): Initiation {
  const senderIndex = opts.senderIndex ?? randomBytes(4).readUInt32LE();
  const ephemeralRaw = opts.ephemeralPrivate ?? generateKeyPair().privateKey;
  const ephemeral = privateKeyObject(ephemeralRaw);
  const ePub = publicKeyOf(ephemeralRaw);
  let c: Buffer = hash(text(CONSTRUCTION));
  let h: Buffer = hash(c, text(IDENTIFIER));
  h = hash(h, peer.serverPublicKey);
  [c] = kdf(1, c, ePub);
  h = hash(h, ePub);
  const es = dh(ephemeral, peer.serverPublicKey);
  if (!es) throw new WireGuardKeyError('the server public key is not a usable X25519 key');
  let k: Buffer;
  [c, k] = kdf(2, c, es);
  const encStatic = seal(k, peer.publicKey, h);
  h = hash(h, encStatic);
  const ss = dh(privateKeyObject(peer.privateKey), peer.serverPublicKey);
  if (!ss) throw new WireGuardKeyError('the server public key is not a usable X25519 key');
  [c, k] = kdf(2, c, ss);
  const encTime = seal(k, tai64n(opts.nowMs ?? Date.now()), h);
  h = hash(h, encTime);

  const head = Buffer.alloc(8);
  head[0] = MESSAGE.INITIATION;
  head.writeUInt32LE(senderIndex >>> 0, 4);
  const body = cat(head, ePub, encStatic, encTime);
  const mac1 = mac(hash(text(LABEL_MAC1), peer.serverPublicKey), body);
  const mac2 = opts.cookie ? mac(opts.cookie, cat(body, mac1)) : Buffer.alloc(MAC_BYTES);
  return { packet: cat(body, mac1, mac2), senderIndex: senderIndex >>> 0, ephemeral, chainKey: c, hash: h, mac1 };
}

export type ReplyJudgement =
  | { kind: 'response'; serverIndex: number }
  | { kind: 'cookie'; cookie: Buffer }
  | { kind: 'wrong-key'; why: string }
  | { kind: 'ignored'; why: string };

/**
 * What a datagram from the server is, for our initiation: its verified
 * Handshake Response, a Cookie Reply (the cookie to put in mac2), a response
 * that fails with our keys (`wrong-key`), or something to ignore.
 */
export function judgeWireGuardReply(buf: Uint8Array, init: Initiation, peer: WireGuardPeer): ReplyJudgement {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 4) return { kind: 'ignored', why: `reply of ${b.length} bytes is too short` };
  const type = b[0];
  if (b[1] !== 0 || b[2] !== 0 || b[3] !== 0) return { kind: 'ignored', why: 'the reserved bytes of the reply are not zero' };
  if (type === MESSAGE.COOKIE_REPLY) {
    if (b.length !== COOKIE_REPLY_BYTES) return { kind: 'ignored', why: `cookie reply of ${b.length} bytes (expected ${COOKIE_REPLY_BYTES})` };
    if (b.readUInt32LE(4) !== init.senderIndex) return { kind: 'ignored', why: 'the cookie reply is for another handshake' };
    const cookie = xopen(hash(text(LABEL_COOKIE), peer.serverPublicKey), b.subarray(8, 32), b.subarray(32, 64), init.mac1);
    return cookie ? { kind: 'cookie', cookie } : { kind: 'ignored', why: 'the cookie reply does not decrypt with the server public key' };
  }
  if (type !== MESSAGE.RESPONSE) return { kind: 'ignored', why: `message type ${type} is not a handshake response` };
  if (b.length !== RESPONSE_BYTES) return { kind: 'ignored', why: `handshake response of ${b.length} bytes (expected ${RESPONSE_BYTES})` };
  if (b.readUInt32LE(8) !== init.senderIndex) return { kind: 'ignored', why: 'the response is for another handshake' };
  const mac1 = mac(hash(text(LABEL_MAC1), peer.publicKey), b.subarray(0, 60));
  if (!timingSafeEqual(mac1, b.subarray(60, 76))) return { kind: 'ignored', why: 'the response\'s mac1 is not for our public key' };
  const eR = b.subarray(12, 44);
  let h: Buffer = hash(init.hash, eR);
  let [c]: Buffer[] = kdf(1, init.chainKey, eR);
  const ee = dh(init.ephemeral, eR);
  const se = dh(privateKeyObject(peer.privateKey), eR);
  if (!ee || !se) return { kind: 'wrong-key', why: 'the response\'s ephemeral key is not a usable X25519 key' };
  [c] = kdf(1, c, ee);
  [c] = kdf(1, c, se);
  const [, tau, k] = kdf(3, c, peer.presharedKey ?? Buffer.alloc(KEY_BYTES));
  h = hash(h, tau);
  if (!open(k, b.subarray(44, 60), h)) {
    return { kind: 'wrong-key', why: 'the handshake response does not verify with the configured keys (the preshared key differs from the server\'s)' };
  }
  return { kind: 'response', serverIndex: b.readUInt32LE(4) };
}

/**
 * The retransmitting conversation for udpExchange: a fresh initiation each
 * send (later timestamp, so no replay), mac2 once a cookie came, sent again at
 * once after a cookie reply.
 */
export function wireguardConversation(peer: WireGuardPeer): {
  packet(): Buffer;
  judge(msg: Buffer): Verdict<{ serverIndex: number; cookieReplies: number }>;
  cookieReplies(): number;
} {
  let cookie: Buffer | undefined;
  let cookies = 0;
  let lastMs = 0;
  const sent: Initiation[] = [];
  return {
    packet() {
      // Strictly increasing timestamps even within one millisecond.
      lastMs = Math.max(Date.now(), lastMs + 0.001);
      const init = createInitiation(peer, { nowMs: lastMs, cookie });
      sent.push(init);
      return init.packet;
    },
    judge(msg) {
      let first: { why: string } | undefined;
      // A late answer to an earlier send is as good an answer.
      for (const init of sent.toReversed()) {
        const j = judgeWireGuardReply(msg, init, peer);
        if (j.kind === 'response') return { answer: true, value: { serverIndex: j.serverIndex, cookieReplies: cookies } };
        if (j.kind === 'cookie') {
          cookie = j.cookie;
          cookies++;
          return { answer: false, why: 'the server is under load and sent a cookie reply', resendNow: true };
        }
        if (j.kind === 'wrong-key') return { answer: false, why: j.why, wrongKey: true };
        first ??= j;
      }
      return { answer: false, why: first?.why ?? 'no handshake was sent' };
    },
    cookieReplies: () => cookies,
  };
}

export interface WireGuardHandshakeResult extends Omit<UdpExchangeResult<unknown>, 'value'> {
  address: string;
  port: number;
  serverIndex?: number;
  cookieReplies: number;
}

/** One WireGuard handshake to address:port over UDP. Resolves, never rejects. */
export async function wireguardHandshake(opts: Omit<UdpExchangeOptions<unknown>, 'packet' | 'judge'> & { peer: WireGuardPeer }): Promise<WireGuardHandshakeResult> {
  const talk = wireguardConversation(opts.peer);
  const { value, ...r } = await udpExchange({ ...opts, packet: () => talk.packet(), judge: (m) => talk.judge(m) });
  return { address: opts.address, port: opts.port, ...r, serverIndex: value?.serverIndex, cookieReplies: talk.cookieReplies() };
}

/**
 * A peer no server knows (a fresh key pair), for a probe without a configured
 * key: the server stays silent, but a closed port still answers ICMP, and a
 * server under load still sends a cookie reply when the public key is right.
 */
export function anonymousPeer(serverPublicKey?: Buffer): WireGuardPeer {
  return wireguardPeer(generateKeyPair().privateKey, serverPublicKey ?? generateKeyPair().publicKey);
}
