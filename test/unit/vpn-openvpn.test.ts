/**
 * The OpenVPN reset encoder and reply parser, on packets recorded from a real
 * OpenVPN 2.6 server (fixtures/packets/openvpn), plus the transport's
 * behaviour on real loopback sockets (closed port, silence, strays). The
 * handshake against real OpenVPN servers is tested in the lab
 * (test/lab/vpn.test.ts).
 */
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  encodeClientReset,
  frameTcp,
  judgeReply,
  OPCODE,
  openvpnHandshake,
  parseServerPacket,
  parseStaticKey,
  PLAIN_CLIENT_RESET_BYTES,
  TlsAuthKeyError,
  tlsAuthFromKey,
} from '../../src/probes/net/openvpn.js';
import { waitFor } from '../../src/shared/wait.js';

const dir = new URL('../../fixtures/packets/openvpn/', import.meta.url);
const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(name, dir), 'utf8')) as { clientSessionId: string; request: string; reply: string; tlsAuth?: { direction: 0 | 1; digest: 'SHA1' } };
const keyText = readFileSync(new URL('throwaway-ta.key', dir), 'utf8');
const key = parseStaticKey(keyText);
const plain = fixture('udp-plain.json');
const signed = fixture('udp-tls-auth-sha1-dir1.json');
const tcp = fixture('tcp-plain.json');
const sid = Buffer.from(plain.clientSessionId, 'hex');
const hex = (s: string) => Buffer.from(s, 'hex');

describe('client reset encoding', () => {
  it('is the 14-byte P_CONTROL_HARD_RESET_CLIENT_V2 the real server answered', () => {
    const pkt = encodeClientReset({ sessionId: sid });
    expect(pkt.length).toBe(PLAIN_CLIENT_RESET_BYTES);
    expect(pkt.length).toBe(14);
    expect(pkt[0]).toBe(0x38); // opcode 7 << 3, key id 0
    expect(pkt.toString('hex')).toBe(plain.request);
  });

  it('signs with tls-auth exactly as the recorded packet the server accepted (HMAC over packet id, time, opcode, session id, rest)', () => {
    const recorded = hex(signed.request);
    const packetId = recorded.readUInt32BE(1 + 8 + 20);
    const time = recorded.readUInt32BE(1 + 8 + 20 + 4);
    const auth = tlsAuthFromKey(key, 1, 'SHA1');
    const pkt = encodeClientReset({ sessionId: sid, tlsAuth: { auth, packetId, time } });
    expect(pkt.length).toBe(14 + 20 + 8);
    expect(pkt.toString('hex')).toBe(signed.request);
    // A different key direction or replay field gives a different HMAC.
    expect(encodeClientReset({ sessionId: sid, tlsAuth: { auth: tlsAuthFromKey(key, 0), packetId, time } }).equals(pkt)).toBe(false);
    expect(encodeClientReset({ sessionId: sid, tlsAuth: { auth, packetId: packetId + 1, time } }).equals(pkt)).toBe(false);
  });

  it('frames TCP packets with a 2-byte length', () => {
    expect(frameTcp(encodeClientReset({ sessionId: sid })).toString('hex')).toBe(tcp.request);
  });
});

describe('static key', () => {
  it('takes the HMAC keys from the slots the key direction picks', () => {
    const d0 = tlsAuthFromKey(key, 0, 'SHA1');
    const d1 = tlsAuthFromKey(key, 1, 'SHA1');
    const none = tlsAuthFromKey(key, undefined, 'SHA256');
    expect(d0.sendKey).toEqual(key.subarray(64, 84));
    expect(d0.receiveKey).toEqual(key.subarray(192, 212));
    expect(d1.sendKey).toEqual(d0.receiveKey);
    expect(d1.receiveKey).toEqual(d0.sendKey);
    expect(none.sendKey).toEqual(key.subarray(64, 96));
    expect(none.receiveKey).toEqual(none.sendKey);
  });

  it('reads a key inside an .ovpn <tls-auth> block too', () => {
    const ovpn = `client\nremote vpn.example 1194\n<tls-auth>\n${keyText}</tls-auth>\nkey-direction 1\n`;
    expect(parseStaticKey(ovpn)).toEqual(key);
  });

  it('rejects what is not a static key, without quoting the key material', () => {
    expect(() => parseStaticKey('hello')).toThrow(TlsAuthKeyError);
    const short = keyText.replace(/([0-9a-f]{32})\n-----END/, '\n-----END');
    expect(() => parseStaticKey(short)).toThrow(/240 bytes, expected 256/);
    const bad = keyText.replace(/[0-9a-f]{4}\n-----END/, 'zzzz\n-----END');
    try {
      parseStaticKey(bad);
      expect.unreachable();
    } catch (err) {
      const hexLines = keyText.split('\n').filter((l) => /^[0-9a-f]{32}$/.test(l));
      for (const l of hexLines) expect((err as Error).message).not.toContain(l);
    }
  });
});

describe('server reply', () => {
  it('accepts the recorded HARD_RESET_SERVER_V2 that acknowledges our reset and echoes our session id', () => {
    const parsed = parseServerPacket(hex(plain.reply));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.packet.opcode).toBe(OPCODE.CONTROL_HARD_RESET_SERVER_V2);
    expect(parsed.packet.acks).toEqual([0]);
    expect(parsed.packet.remoteSessionId?.toString('hex')).toBe(plain.clientSessionId);
    const j = judgeReply(hex(plain.reply), sid);
    expect(j).toEqual({ answer: true, serverSessionId: hex(plain.reply).subarray(1, 9).toString('hex') });
  });

  it('accepts the recorded TCP reply (after its length prefix)', () => {
    const framed = hex(tcp.reply);
    expect(framed.readUInt16BE(0)).toBe(framed.length - 2);
    expect(judgeReply(framed.subarray(2), sid).answer).toBe(true);
  });

  it('checks the server\'s tls-auth HMAC: right key answers, wrong direction does not', () => {
    const reply = hex(signed.reply);
    expect(judgeReply(reply, sid, tlsAuthFromKey(key, 1, 'SHA1')).answer).toBe(true);
    const wrong = judgeReply(reply, sid, tlsAuthFromKey(key, 0, 'SHA1'));
    expect(wrong).toEqual({ answer: false, why: expect.stringMatching(/HMAC/) });
    // Flip one bit of the signed body: the HMAC no longer verifies.
    const tampered = Buffer.from(reply);
    tampered[tampered.length - 1] ^= 1;
    expect(judgeReply(tampered, sid, tlsAuthFromKey(key, 1, 'SHA1')).answer).toBe(false);
  });

  it('rejects a reset for another session, another opcode or without the ack', () => {
    const other = Buffer.from(sid);
    other[0] ^= 0xff;
    expect(judgeReply(hex(plain.reply), other)).toEqual({ answer: false, why: 'the reply is for another session' });
    const ack = Buffer.from(hex(plain.reply));
    ack[0] = (OPCODE.ACK_V1 << 3) | 0;
    expect(judgeReply(ack, sid).answer).toBe(false);
    const reset = Buffer.from(hex(plain.reply));
    reset.writeUInt32BE(5, 10); // acknowledges message 5, not our 0
    expect(judgeReply(reset, sid)).toEqual({ answer: false, why: 'the reply does not acknowledge our reset' });
  });

  it('never accepts a truncated reply and never throws on one', () => {
    const full = hex(plain.reply);
    for (let n = 0; n < full.length - 4; n++) {
      expect(judgeReply(full.subarray(0, n), sid).answer).toBe(false);
    }
    expect(parseServerPacket(Buffer.alloc(5000)).ok).toBe(false);
  });

  it('fuzz: arbitrary bytes never throw, with or without tls-auth, and are only accepted when they echo our session id', () => {
    const auth = tlsAuthFromKey(key, 1);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (bytes, withAuth) => {
        const j = judgeReply(bytes, sid, withAuth ? auth : undefined);
        if (j.answer) expect(Buffer.from(bytes).includes(sid)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('fuzz: single-byte corruptions of a real reply either still echo our session or are rejected, never throw', () => {
    const full = hex(plain.reply);
    fc.assert(
      fc.property(fc.nat(full.length - 1), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        const b = Buffer.from(full);
        b[at] ^= xor;
        const j = judgeReply(b, sid);
        const parsed = parseServerPacket(b);
        if (j.answer) expect(parsed.ok && parsed.packet.remoteSessionId?.equals(sid)).toBe(true);
        // Corrupting the opcode or our echoed session id can never be accepted.
        if (at === 0 || (at >= 14 && at < 22)) expect(j.answer).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('handshake transport on loopback', () => {
  const closers: Array<() => void> = [];
  afterEach(() => {
    while (closers.length) closers.pop()!();
  });

  const udpPeer = async (onMessage?: (msg: Buffer, reply: (b: Buffer) => void) => void): Promise<number> => {
    const s = dgram.createSocket('udp4');
    s.on('message', (msg, rinfo) => onMessage?.(msg, (b) => s.send(b, rinfo.port, rinfo.address)));
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    closers.push(() => s.close());
    return s.address().port;
  };

  it('reports refused for a UDP port nobody listens on (ICMP port unreachable)', async () => {
    const port = await udpPeer();
    closers.pop()!(); // close it again: the port is now free
    const r = await openvpnHandshake({ address: '127.0.0.1', port, proto: 'udp', timeoutMs: 3000 });
    expect(r.outcome).toBe('refused');
    expect(r.errorCode).toBe('ECONNREFUSED');
  });

  it('reports refused for a TCP port nobody listens on', async () => {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const { port } = srv.address() as net.AddressInfo;
    await new Promise((r) => srv.close(r));
    const r = await openvpnHandshake({ address: '127.0.0.1', port, proto: 'tcp', timeoutMs: 3000 });
    expect(r.outcome).toBe('refused');
  });

  it('reports no-reply for a silent UDP port after retransmitting, with the tls-auth replay counter growing', async () => {
    const seen: Buffer[] = [];
    const port = await udpPeer((msg) => seen.push(msg));
    const auth = tlsAuthFromKey(key, 1);
    const r = await openvpnHandshake({ address: '127.0.0.1', port, proto: 'udp', tlsAuth: auth, timeoutMs: 700, retransmitMs: 200 });
    expect(r.outcome).toBe('no-reply');
    expect(r.signed).toBe(true);
    expect(r.attempts).toBeGreaterThanOrEqual(2);
    // The last retransmission may still be on its way through loopback when the handshake gives up.
    await waitFor(`all ${r.attempts} resets to reach the peer`, () => seen.length >= r.attempts, { timeoutMs: 2000, intervalMs: 10 });
    expect(seen.length).toBe(r.attempts);
    const ids = seen.map((m) => m.readUInt32BE(1 + 8 + 20));
    expect(ids).toEqual(ids.map((_, i) => i + 1));
    // Same session on every retransmission.
    expect(new Set(seen.map((m) => m.subarray(1, 9).toString('hex'))).size).toBe(1);
  });

  it('ignores strays and garbage and still takes the real answer that follows', async () => {
    const port = await udpPeer((msg, reply) => {
      reply(Buffer.from('garbage'));
      const answer = hex(plain.reply);
      msg.copy(answer, 14, 1, 9); // echo the caller's session id where the server does
      reply(answer);
    });
    const r = await openvpnHandshake({ address: '127.0.0.1', port, proto: 'udp', timeoutMs: 2000 });
    expect(r.outcome).toBe('answered');
    expect(r.ignored).toBe(1);
    expect(r.ignoredWhy).toMatch(/too short/);
  });

  it('stops at once when the run is aborted', async () => {
    const port = await udpPeer();
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const t0 = Date.now();
    const r = await openvpnHandshake({ address: '127.0.0.1', port, proto: 'udp', timeoutMs: 5000, signal: ac.signal });
    expect(r.outcome).toBe('aborted');
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('over TCP, a server that closes without answering is no-reply (tls-auth drops), not refused', async () => {
    const srv = net.createServer((sock) => sock.once('data', () => sock.destroy()));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    closers.push(() => srv.close());
    const { port } = srv.address() as net.AddressInfo;
    const r = await openvpnHandshake({ address: '127.0.0.1', port, proto: 'tcp', timeoutMs: 2000 });
    expect(r.outcome).toBe('no-reply');
    expect(r.attempts).toBe(1);
  });
});
