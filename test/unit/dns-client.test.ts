/**
 * The DNS transport against fake servers on 127.0.0.1 (dns2's server and
 * plain sockets): matching, strays, retransmits, timeouts within the
 * deadline, ICMP refused, TCP after truncation. Never any other address.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import dns2 from 'dns2';
import { afterEach, describe, expect, it } from 'vitest';
import { addressesOf, queryDns } from '../../src/probes/net/dns-client.js';

const { Packet, UDPServer } = dns2;
const LOOPBACK = '127.0.0.1';
const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

/** dns2's UDP server on an ephemeral loopback port. */
async function fakeServer(handler: (req: dns2.Packet, send: (res: dns2.Packet | Buffer) => Promise<Buffer>) => void): Promise<number> {
  const server = new UDPServer((req: dns2.Packet, send: (res: dns2.Packet | Buffer) => Promise<Buffer>) => handler(req, send));
  await server.listen(0, LOOPBACK);
  cleanups.push(() => server.close());
  return server.address().port;
}

function answerA(req: dns2.Packet, address: string, patch: (res: dns2.Packet) => void = () => {}): dns2.Packet {
  const res = Packet.createResponseFromRequest(req);
  res.header.ra = 1;
  res.answers.push({ name: req.questions[0].name, type: Packet.TYPE.A, class: Packet.CLASS.IN, ttl: 300, address } as dns2.Packet.Resource);
  patch(res);
  return res;
}

/** A UDP socket that receives and never answers: a host that is up but its DNS is wedged. */
async function silentServer(): Promise<{ port: number; received: Buffer[] }> {
  const s = dgram.createSocket('udp4');
  const received: Buffer[] = [];
  s.on('message', (m) => received.push(m));
  await new Promise<void>((res) => s.bind(0, LOOPBACK, res));
  cleanups.push(() => s.close());
  return { port: s.address().port, received };
}

/** A loopback UDP port with nothing bound to it (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((res) => s.bind(0, LOOPBACK, res));
  const port = s.address().port;
  await new Promise<void>((res) => s.close(() => res()));
  return port;
}

describe('queryDns', () => {
  it('asks dns2 fake server and returns its answer with flags, TTL and latency', async () => {
    const port = await fakeServer((req, send) => void send(answerA(req, '192.168.1.20')));
    const r = await queryDns({ server: LOOPBACK, port, name: 'pi-vpn.home', type: 'A' });
    expect(r).toMatchObject({ outcome: 'answered', attempts: 1, transport: 'udp', strays: 0 });
    expect(r.reply).toMatchObject({ rcodeName: 'NOERROR', flags: { ra: true, aa: false, tc: false } });
    expect(r.reply!.answers[0]).toMatchObject({ data: '192.168.1.20', ttl: 300 });
    expect(addressesOf(r)).toEqual(['192.168.1.20']);
    expect(r.latencyMs).toBeGreaterThan(0);
  });

  it('ignores a reply with the wrong id, one for another question and a hostile one, then takes the right one', async () => {
    const port = await fakeServer((req, send) => {
      void (async () => {
        await send(answerA(req, '6.6.6.6', (res) => (res.header.id = (req.header.id + 1) & 0xffff)));
        await send(answerA(req, '6.6.6.7', (res) => (res.questions = [{ name: 'evil.example', type: 1, class: 1 } as dns2.Packet.Question])));
        const hostile = Buffer.from('0000 8180 ffff ffff ffff ffff'.replace(/ /g, ''), 'hex');
        hostile.writeUInt16BE(req.header.id, 0);
        await send(hostile);
        await send(answerA(req, '192.168.1.20'));
      })();
    });
    const r = await queryDns({ server: LOOPBACK, port, name: 'pi-vpn.home', type: 'A' });
    expect(r.outcome).toBe('answered');
    expect(addressesOf(r)).toEqual(['192.168.1.20']);
    expect(r.strays).toBe(2);
    expect(r.rejected).toBe(1);
    expect(r.rejectReason).toBe('counts-exceed-size');
  });

  it('reports NXDOMAIN, SERVFAIL and REFUSED as answers with their rcode, without retrying', async () => {
    let asked = 0;
    const rcodes: Record<string, number> = { 'nx.home': 3, 'sf.home': 2, 'rf.home': 5 };
    const port = await fakeServer((req, send) => {
      asked++;
      const res = Packet.createResponseFromRequest(req);
      res.header.rcode = rcodes[req.questions[0].name];
      void send(res);
    });
    for (const [name, rcode] of Object.entries(rcodes)) {
      const r = await queryDns({ server: LOOPBACK, port, name, type: 'A' });
      expect(r).toMatchObject({ outcome: 'answered', attempts: 1, reply: { rcode, answers: [] } });
      expect(addressesOf(r)).toEqual([]);
    }
    expect(asked).toBe(3);
  });

  it('retransmits the same message to a silent server and gives up as timeout, within its deadline', async () => {
    const silent = await silentServer();
    const started = Date.now();
    const r = await queryDns({ server: LOOPBACK, port: silent.port, name: 'pi-vpn.home', type: 'A', timeoutMs: 150, attempts: 3 });
    const took = Date.now() - started;
    expect(r).toMatchObject({ outcome: 'timeout', attempts: 3 });
    expect(silent.received).toHaveLength(3);
    expect(new Set(silent.received.map((b) => b.toString('hex'))).size).toBe(1);
    // 150 + 225 + 300 ms of tries; generous upper bound for a busy machine.
    expect(took).toBeGreaterThanOrEqual(600);
    expect(took).toBeLessThan(5000);
  });

  it('stops at the deadline even when the tries would take longer', async () => {
    const silent = await silentServer();
    const started = Date.now();
    const r = await queryDns({ server: LOOPBACK, port: silent.port, name: 'x.home', type: 'A', timeoutMs: 5000, attempts: 3, deadline: Date.now() + 300 });
    expect(r.outcome).toBe('timeout');
    // The first try is cut to the 300 ms left, not its 5 s: at most a sliver of a second try fits after a timer
    // that fires a millisecond early on a loaded machine, never the 5 s ones.
    expect(r.attempts).toBeLessThanOrEqual(2);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('accepts a late reply to the first try while waiting for the second', async () => {
    let first: { req: dns2.Packet; send: (res: dns2.Packet) => Promise<Buffer> } | undefined;
    const port = await fakeServer((req, send) => {
      if (!first) {
        first = { req, send };
        return; // hold the first; answer it only after the retransmit arrives
      }
      void first.send(answerA(first.req, '192.168.1.20'));
    });
    const r = await queryDns({ server: LOOPBACK, port, name: 'pi-vpn.home', type: 'A', timeoutMs: 200 });
    expect(r).toMatchObject({ outcome: 'answered', attempts: 2 });
    expect(addressesOf(r)).toEqual(['192.168.1.20']);
  });

  it('reports a closed port (ICMP port unreachable) as refused at once', async () => {
    const port = await closedPort();
    const started = Date.now();
    const r = await queryDns({ server: LOOPBACK, port, name: 'x.home', type: 'A', timeoutMs: 2000 });
    expect(r).toMatchObject({ outcome: 'refused', attempts: 1, error: 'ECONNREFUSED' });
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('ends at once with aborted when the signal fires', async () => {
    const silent = await silentServer();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    const r = await queryDns({ server: LOOPBACK, port: silent.port, name: 'x.home', type: 'A', timeoutMs: 5000, signal: controller.signal });
    expect(r.outcome).toBe('aborted');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('keeps waiting past replies it cannot read, and calls the query malformed if nothing else comes', async () => {
    const port = await fakeServer((req, send) => {
      const broken = Buffer.concat([Buffer.alloc(12), Buffer.from('c00c00010001', 'hex')]);
      broken.writeUInt16BE(req.header.id, 0);
      broken.writeUInt16BE(0x8180, 2);
      broken.writeUInt16BE(1, 4);
      void send(broken);
    });
    const r = await queryDns({ server: LOOPBACK, port, name: 'x.home', type: 'A', timeoutMs: 100, attempts: 2 });
    expect(r).toMatchObject({ outcome: 'malformed', attempts: 2, rejected: 2, rejectReason: 'bad-name' });
  });

  describe('truncated replies', () => {
    /** UDP answers with TC and one record; TCP on the same port answers in full (or not at all). */
    async function truncatingServer(tcpBehaviour: 'answer' | 'silent'): Promise<{ port: number; tcpAsked: () => number }> {
      let tcpAsked = 0;
      const tcp = net.createServer((sock) => {
        tcpAsked++;
        sock.on('error', () => {});
        sock.once('data', (data) => {
          if (tcpBehaviour === 'silent') return;
          const req = Packet.parse(data.subarray(2));
          const res = answerA(req, '10.0.0.1');
          for (let i = 2; i <= 60; i++) res.answers.push({ ...res.answers[0], address: `10.0.0.${i}` } as dns2.Packet.Resource);
          const body = res.toBuffer();
          const len = Buffer.alloc(2);
          len.writeUInt16BE(body.length);
          sock.end(Buffer.concat([len, body]));
        });
      });
      await new Promise<void>((res) => tcp.listen(0, LOOPBACK, res));
      cleanups.push(() => tcp.close());
      const port = (tcp.address() as net.AddressInfo).port;
      const udp = new UDPServer((req: dns2.Packet, send: (r: dns2.Packet) => Promise<Buffer>) => void send(answerA(req, '10.0.0.1', (r) => (r.header.tc = 1))));
      await udp.listen(port, LOOPBACK);
      cleanups.push(() => udp.close());
      return { port, tcpAsked: () => tcpAsked };
    }

    it('asks again over TCP and returns the full answer', async () => {
      const srv = await truncatingServer('answer');
      const r = await queryDns({ server: LOOPBACK, port: srv.port, name: 'big.home', type: 'A' });
      expect(r).toMatchObject({ outcome: 'answered', transport: 'tcp', attempts: 2 });
      expect(addressesOf(r)).toHaveLength(60);
      expect(srv.tcpAsked()).toBe(1);
    });

    it('keeps the truncated UDP answer when TCP does not answer within its own timeout', async () => {
      const srv = await truncatingServer('silent');
      const started = Date.now();
      const r = await queryDns({ server: LOOPBACK, port: srv.port, name: 'big.home', type: 'A', tcpTimeoutMs: 300 });
      expect(r).toMatchObject({ outcome: 'answered', transport: 'udp', reply: { flags: { tc: true } } });
      expect(r.error).toMatch(/^tcp: no reply within 300 ms/);
      expect(addressesOf(r)).toEqual(['10.0.0.1']);
      expect(Date.now() - started).toBeLessThan(3000);
    });
  });

  it('throws for arguments that are not a question at all', async () => {
    await expect(queryDns({ server: 'dns.home', name: 'x', type: 'A' })).rejects.toThrow(/not an IP address/);
    await expect(queryDns({ server: LOOPBACK, name: 'a..b', type: 'A' })).rejects.toThrow(/empty label/);
  });
});
