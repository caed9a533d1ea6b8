/**
 * tls-crypt and tls-crypt-v2 for the client reset, on keys made by the real
 * `openvpn --genkey` (the handshake against real OpenVPN servers is in
 * test/integration/vpn-kinds-peers.test.ts). The server's side of a packet is
 * built with the server's half of the same key file, as OpenVPN picks it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { judgeReply, OPCODE, parseStaticKey } from '../../src/probes/net/openvpn.js';
import {
  encodeTlsCryptReset,
  HEADER_BYTES,
  judgeTlsCryptReply,
  OPCODE_HARD_RESET_CLIENT_V3,
  parseTlsCryptV2ClientKey,
  TAG_BYTES,
  tlsCryptKeys,
  tlsCryptKeysFromFile,
  unwrap,
  wrap,
} from '../../src/probes/net/openvpn-tls-crypt.js';
import { TlsAuthKeyError } from '../../src/probes/net/openvpn.js';

const dir = mkdtempSync(join(tmpdir(), 'nd-tls-crypt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const genkey = (...args: string[]) => execFileSync('openvpn', args, { stdio: 'ignore' });
genkey('--genkey', 'tls-crypt', join(dir, 'tc.key'));
genkey('--genkey', 'tls-crypt', join(dir, 'other.key'));
genkey('--genkey', 'tls-crypt-v2-server', join(dir, 'v2-server.key'));
genkey('--tls-crypt-v2', join(dir, 'v2-server.key'), '--genkey', 'tls-crypt-v2-client', join(dir, 'v2-client.key'));
const keyText = readFileSync(join(dir, 'tc.key'), 'utf8');
const client = tlsCryptKeysFromFile(keyText);
const server = tlsCryptKeys(parseStaticKey(keyText), 'server');
const other = tlsCryptKeys(parseStaticKey(readFileSync(join(dir, 'other.key'), 'utf8')), 'server');
const sid = Buffer.from('0102030405060708', 'hex');
const serverSid = Buffer.from('a1a2a3a4a5a6a7a8', 'hex');

/** The server's HARD_RESET_SERVER_V2, acknowledging message 0 of `remote`, wrapped with `keys`. */
function serverReset(keys = server, remote = sid): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header[0] = OPCODE.CONTROL_HARD_RESET_SERVER_V2 << 3;
  serverSid.copy(header, 1);
  header.writeUInt32BE(1, 9);
  header.writeUInt32BE(1_700_000_000, 13);
  const plain = Buffer.concat([Buffer.from([1, 0, 0, 0, 0]), remote, Buffer.from([0, 0, 0, 0])]);
  return wrap(keys, header, plain);
}

describe('tls-crypt wrap', () => {
  it('lays out header, 32-byte tag, then the AES-256-CTR ciphertext the server unwraps with its half of the key', () => {
    const pkt = encodeTlsCryptReset(client, sid, 7, 1_700_000_000);
    expect(pkt.length).toBe(HEADER_BYTES + TAG_BYTES + 5);
    expect(pkt[0]).toBe(OPCODE.CONTROL_HARD_RESET_CLIENT_V2 << 3);
    expect(pkt.subarray(1, 9)).toEqual(sid);
    expect(pkt.readUInt32BE(9)).toBe(7);
    // Encrypted: the 5 plaintext bytes (empty ack array, message id 0) do not appear as such.
    expect(pkt.subarray(HEADER_BYTES + TAG_BYTES).equals(Buffer.alloc(5))).toBe(false);
    const u = unwrap(server, pkt);
    expect(u.ok && u.plaintext).toEqual(Buffer.alloc(5));
  });

  it('takes the client\'s and the server\'s keys from opposite halves of the file', () => {
    expect(client.send.cipher).toEqual(server.receive.cipher);
    expect(client.send.hmac).toEqual(server.receive.hmac);
    expect(client.send.cipher.equals(client.receive.cipher)).toBe(false);
    // The client cannot read its own packet: directions differ.
    expect(unwrap(client, encodeTlsCryptReset(client, sid, 1, 1)).ok).toBe(false);
  });

  it('accepts the server reset that unwraps and acknowledges our session, and nothing else', () => {
    expect(judgeTlsCryptReply(serverReset(), sid, client)).toEqual({ answer: true, serverSessionId: serverSid.toString('hex') });
    expect(judgeTlsCryptReply(serverReset(server, serverSid), sid, client)).toMatchObject({ answer: false, why: expect.stringMatching(/another session/) });
  });

  it('calls a server reset under another key "wrong key", and a flipped bit is never accepted', () => {
    expect(judgeTlsCryptReply(serverReset(other), sid, client)).toMatchObject({ answer: false, wrongKey: true });
    const good = serverReset();
    for (let i = 0; i < good.length; i++) {
      const bad = Buffer.from(good);
      bad[i] ^= 0x10;
      expect(judgeTlsCryptReply(bad, sid, client).answer).toBe(false);
    }
  });

  it('fuzz: arbitrary bytes never throw and are never accepted', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(judgeTlsCryptReply(bytes, sid, client).answer).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('tls-crypt-v2 client key', () => {
  it('reads Kc and WKc from a real client key and sends CLIENT_V3 with WKc appended', () => {
    const { key, wkc } = parseTlsCryptV2ClientKey(readFileSync(join(dir, 'v2-client.key'), 'utf8'));
    expect(key.length).toBe(256);
    expect(wkc.readUInt16BE(wkc.length - 2)).toBe(wkc.length);
    const keys = tlsCryptKeys(key);
    const pkt = encodeTlsCryptReset(keys, sid, 1, 1_700_000_000, wkc);
    expect(pkt[0]).toBe(OPCODE_HARD_RESET_CLIENT_V3 << 3);
    expect(pkt.subarray(pkt.length - wkc.length)).toEqual(wkc);
    const u = unwrap(tlsCryptKeys(key, 'server'), pkt.subarray(0, pkt.length - wkc.length));
    expect(u.ok).toBe(true);
  });

  it('rejects other files with a message that names the expected format and quotes no key bytes', () => {
    const v1 = readFileSync(join(dir, 'tc.key'), 'utf8');
    const server = readFileSync(join(dir, 'v2-server.key'), 'utf8');
    for (const text of [v1, server, '']) {
      let err: unknown;
      try {
        parseTlsCryptV2ClientKey(text);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(TlsAuthKeyError);
      const msg = (err as Error).message;
      expect(msg).toMatch(/tls-crypt-v2 client key/);
      for (const line of text.split('\n').filter((l) => l.length > 20 && !l.startsWith('-'))) expect(msg).not.toContain(line);
    }
  });
});

it('the plain judge still rejects a tls-crypt packet (the wrap is not mistaken for a plain reset)', () => {
  expect(judgeReply(serverReset(), sid).answer).toBe(false);
});
