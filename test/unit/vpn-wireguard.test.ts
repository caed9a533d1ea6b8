/**
 * The WireGuard handshake pieces that a healthy real peer never exercises:
 * HChaCha20 against the published vector, the Cookie Reply (XChaCha20-Poly1305
 * under the server's public key) turning into mac2, key parsing and the
 * parser on hostile bytes. The handshake itself is checked against a real
 * wireguard-go in test/integration/vpn-kinds-peers.test.ts, and key derivation
 * against the real `wg pubkey` here.
 */
import { execFileSync } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import { blake2s } from '@noble/hashes/blake2.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  COOKIE_REPLY_BYTES,
  createInitiation,
  generateKeyPair,
  hchacha20,
  INITIATION_BYTES,
  judgeWireGuardReply,
  parseKey,
  publicKeyOf,
  tai64n,
  WireGuardKeyError,
  wireguardConversation,
  wireguardPeer,
} from '../../src/probes/net/wireguard.js';

const server = generateKeyPair();
const peer = wireguardPeer(generateKeyPair().privateKey, server.publicKey);

/** What wireguard-go's CreateMessageCookieReply sends: the cookie sealed with XChaCha20-Poly1305 under HASH("cookie--" ‖ server public key), the initiation's mac1 as AAD. */
function cookieReply(receiver: number, cookie: Buffer, mac1: Buffer): Buffer {
  const key = Buffer.from(blake2s(Buffer.concat([Buffer.from('cookie--'), server.publicKey])));
  const nonce = Buffer.from('000102030405060708090a0b0c0d0e0f1011121314151617', 'hex');
  const c = createCipheriv('chacha20-poly1305', hchacha20(key, nonce.subarray(0, 16)), Buffer.concat([Buffer.alloc(4), nonce.subarray(16)]), { authTagLength: 16 });
  c.setAAD(mac1, { plaintextLength: 16 });
  const sealed = Buffer.concat([c.update(cookie), c.final(), c.getAuthTag()]);
  const head = Buffer.alloc(8);
  head[0] = 3;
  head.writeUInt32LE(receiver, 4);
  return Buffer.concat([head, nonce, sealed]);
}

describe('primitives', () => {
  it('HChaCha20 gives the draft-irtf-cfrg-xchacha §2.2.1 test vector', () => {
    const key = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
    const nonce = Buffer.from('000000090000004a0000000031415927', 'hex');
    expect(hchacha20(key, nonce).toString('hex')).toBe('82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc');
  });

  it('derives the same public key as `wg pubkey`', () => {
    const priv = execFileSync('wg', ['genkey'], { encoding: 'utf8' });
    const pub = execFileSync('wg', ['pubkey'], { input: priv, encoding: 'utf8' }).trim();
    expect(publicKeyOf(parseKey(priv, 'private key')).toString('base64')).toBe(pub);
  });

  it('writes TAI64N as 2^62+10+seconds and nanoseconds, big-endian', () => {
    const t = tai64n(1_700_000_000_250);
    expect(t.readBigUInt64BE(0)).toBe(0x400000000000000an + 1_700_000_000n);
    expect(t.readUInt32BE(8)).toBe(250_000_000);
  });

  it('rejects what is not a key without quoting it', () => {
    for (const bad of ['', 'not-a-key', 'x'.repeat(44), Buffer.alloc(31).toString('base64')]) {
      expect(() => parseKey(bad, 'vpn.wireguard.serverPublicKey')).toThrow(WireGuardKeyError);
      try {
        parseKey(bad, 'vpn.wireguard.serverPublicKey');
      } catch (e) {
        if (bad) expect((e as Error).message).not.toContain(bad);
      }
    }
  });
});

describe('initiation and cookie', () => {
  it('is 148 bytes, type 1, our index, mac1 over the body and mac2 zero without a cookie', () => {
    const init = createInitiation(peer, { senderIndex: 0x01020304 });
    expect(init.packet.length).toBe(INITIATION_BYTES);
    expect([...init.packet.subarray(0, 8)]).toEqual([1, 0, 0, 0, 4, 3, 2, 1]);
    const mac1Key = blake2s(Buffer.concat([Buffer.from('mac1----'), server.publicKey]));
    expect(Buffer.from(blake2s(init.packet.subarray(0, 116), { key: mac1Key, dkLen: 16 }))).toEqual(init.mac1);
    expect(init.packet.subarray(132)).toEqual(Buffer.alloc(16));
  });

  it('a cookie reply for our initiation yields the cookie; the next initiation carries mac2 = MAC(cookie, packet up to mac2)', () => {
    const talk = wireguardConversation(peer);
    const first = talk.packet();
    const cookie = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    const reply = cookieReply(first.readUInt32LE(4), cookie, first.subarray(116, 132));
    expect(reply.length).toBe(COOKIE_REPLY_BYTES);
    expect(talk.judge(reply)).toMatchObject({ answer: false, resendNow: true });
    expect(talk.cookieReplies()).toBe(1);
    const second = talk.packet();
    expect(second.subarray(132)).toEqual(Buffer.from(blake2s(second.subarray(0, 132), { key: cookie, dkLen: 16 })));
  });

  it('ignores a cookie reply for another handshake or sealed with another key', () => {
    const init = createInitiation(peer);
    const cookie = Buffer.alloc(16, 7);
    expect(judgeWireGuardReply(cookieReply(init.senderIndex + 1, cookie, init.mac1), init, peer).kind).toBe('ignored');
    expect(judgeWireGuardReply(cookieReply(init.senderIndex, cookie, Buffer.alloc(16)), init, peer).kind).toBe('ignored');
  });

  it('fuzz: arbitrary bytes, or a response-shaped datagram with our index, never throw and never verify', () => {
    const init = createInitiation(peer);
    const shaped = fc.uint8Array({ minLength: 92, maxLength: 92 }).map((b) => {
      const x = Buffer.from(b);
      x[0] = 2;
      x.fill(0, 1, 4);
      x.writeUInt32LE(init.senderIndex, 8);
      return x;
    });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), shaped), (bytes) => {
        expect(judgeWireGuardReply(bytes, init, peer).kind).not.toBe('response');
      }),
      { numRuns: 2000 },
    );
  });
});
