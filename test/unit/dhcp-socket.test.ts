/**
 * The transport on real UDP sockets over loopback: timing (window, settle,
 * retransmission, abort), filtering and resilience to junk. The replies come
 * from a small test sender, not a DHCP server: real servers are exercised in
 * test/lab/dhcp.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeDiscover, encodeReply, ipToBytes, MessageType, Opt, parseDhcpPacket } from '../../src/probes/net/dhcp-packet.js';
import { collectOffers, DhcpBindError, openClientSocket, type CollectOptions } from '../../src/probes/net/dhcp-socket.js';
import { freePort } from '../support/ports.js';
import { NOT_ROOT, itNeeds } from '../support/needs.js';
import { nobodyDist } from '../support/nobody.js';

const MAC = '02:4e:44:00:00:07';
const XID = 0x12345678;
const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) {
    try {
      s.close();
    } catch {
      // already closed
    }
  }
});

async function udp(port = 0, reuseAddr = false): Promise<Socket> {
  const s = createSocket({ type: 'udp4', reuseAddr });
  sockets.push(s);
  await new Promise<void>((res, rej) => {
    s.once('error', rej);
    s.bind(port, '127.0.0.1', () => res());
  });
  return s;
}

function offer(server: string, opts: { xid?: number; mac?: string; type?: number; yiaddr?: string } = {}): Uint8Array {
  return encodeReply({
    type: opts.type ?? MessageType.OFFER, xid: opts.xid ?? XID, mac: opts.mac ?? MAC, yiaddr: opts.yiaddr ?? '10.0.0.100',
    options: [[Opt.SERVER_ID, ipToBytes(server)], [Opt.ROUTER, ipToBytes(server)], [Opt.LEASE_TIME, [0, 0, 14, 16]]],
  });
}

/** A test sender standing in for servers: records DISCOVERs and lets the test answer each. */
async function fakeServer(onDiscover: (reply: (bytes: Uint8Array) => void, n: number) => void) {
  const s = await udp();
  const discovers: number[] = [];
  const t0 = performance.now();
  s.on('message', (msg, rinfo) => {
    const p = parseDhcpPacket(msg);
    if (!p.ok || p.packet.messageType !== MessageType.DISCOVER) return;
    discovers.push(performance.now() - t0);
    onDiscover((bytes) => s.send(bytes, rinfo.port, rinfo.address), discovers.length);
  });
  return { port: s.address().port, discovers };
}

async function collect(serverPort: number, clientPort: number, over: Partial<CollectOptions> = {}) {
  return collectOffers({
    xid: XID, mac: MAC, discover: (secs) => encodeDiscover({ xid: XID, mac: MAC, secs }),
    target: '127.0.0.1', serverPort, clientPort, bindAddress: '127.0.0.1',
    windowMs: 3000, settleMs: 200, minWaitMs: 0, retransmitAtMs: [], signal: new AbortController().signal,
    ...over,
  });
}

describe('collectOffers', () => {
  it('keeps offers for our xid and MAC only, counts junk as malformed, and still reports the good offer', async () => {
    const clientPort = await freePort('udp');
    let resend: ReturnType<typeof setInterval> | undefined;
    const server = await fakeServer((reply) => {
      reply(new Uint8Array(0));
      reply(Uint8Array.from([2, 1, 6]));
      reply(offer('10.0.0.66', { xid: XID + 1 })); // someone else's transaction
      reply(offer('10.0.0.67', { mac: '02:00:00:00:00:99' })); // someone else's MAC
      reply(offer('10.0.0.68', { type: MessageType.ACK })); // not an offer
      const truncated = offer('10.0.0.69').slice(0, 250);
      truncated[240 + 3 + 1] = 200; // the server-id option now claims 200 bytes
      reply(truncated);
      for (let i = 0; i < 200; i++) reply(Uint8Array.from({ length: i * 3 }, (_, j) => (i * 7 + j) & 255));
      // The burst may fill the socket buffer for a while on a busy machine: like a server answering
      // retransmissions, the good offer is repeated until the collector is done, so one gets through.
      resend = setInterval(() => reply(offer('10.0.0.1')), 50);
    });
    const r = await collect(server.port, clientPort).finally(() => clearInterval(resend));
    expect(new Set(r.offers.map((o) => o.content.serverId))).toEqual(new Set(['10.0.0.1']));
    expect(r.offers[0].content).toMatchObject({ offeredIp: '10.0.0.100', router: ['10.0.0.1'], leaseSeconds: 3600 });
    expect(r.ignored).toBe(3);
    expect(r.malformed).toBeGreaterThan(50); // a burst this size may overflow the socket buffer: some are dropped unseen
    expect(r.malformedSamples.length).toBeLessThanOrEqual(5);
    expect(r.endedBy).toBe('settled');
  });

  it('stops a settle period after the last new server, but not before minWait', async () => {
    const clientPort = await freePort('udp');
    const server = await fakeServer((reply) => {
      reply(offer('10.0.0.1'));
      setTimeout(() => reply(offer('10.0.0.2')), 300);
    });
    const r = await collect(server.port, clientPort, { settleMs: 500, minWaitMs: 1200, windowMs: 5000 });
    expect(r.offers.map((o) => o.content.serverId)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(r.endedBy).toBe('settled');
    expect(r.elapsedMs).toBeGreaterThanOrEqual(1190);
    expect(r.elapsedMs).toBeLessThan(4500);
  });

  it('sees a second server that answers within the settle period of the first', async () => {
    const clientPort = await freePort('udp');
    const server = await fakeServer((reply) => {
      setTimeout(() => reply(offer('10.0.0.1')), 100);
      setTimeout(() => reply(offer('10.0.0.254', { yiaddr: '10.0.0.150' })), 400);
    });
    const r = await collect(server.port, clientPort, { settleMs: 600 });
    expect(r.offers.map((o) => o.content.serverId)).toEqual(['10.0.0.1', '10.0.0.254']);
  });

  it('waits the whole window when nobody answers, and retransmits on schedule', async () => {
    const clientPort = await freePort('udp');
    const server = await fakeServer(() => {});
    const r = await collect(server.port, clientPort, { windowMs: 1500, retransmitAtMs: [400, 900, 2000] });
    expect(r.offers).toEqual([]);
    expect(r.endedBy).toBe('window');
    expect(r.elapsedMs).toBeGreaterThanOrEqual(1490);
    expect(r.sent).toBe(3); // 0, 400, 900; 2000 is past the window
    expect(server.discovers).toHaveLength(3);
  });

  it('stops retransmitting once an offer is in, and keeps repeats of one server as one server', async () => {
    const clientPort = await freePort('udp');
    const server = await fakeServer((reply, n) => {
      if (n === 2) reply(offer('10.0.0.1'));
    });
    // The answer to the second DISCOVER (at 200 ms) has 2 s to arrive before a third would be due: room for a loaded CI.
    const r = await collect(server.port, clientPort, { retransmitAtMs: [200, 2200, 4200, 6200], settleMs: 900, windowMs: 8000 });
    expect(r.sent).toBe(2);
    expect(server.discovers).toHaveLength(2);
    expect(r.offers).toHaveLength(1);
  });

  it('carries the elapsed seconds in retransmissions', async () => {
    const clientPort = await freePort('udp');
    const secs: number[] = [];
    const s = await udp();
    s.on('message', (msg) => {
      const p = parseDhcpPacket(msg);
      if (p.ok) secs.push(p.packet.secs);
    });
    await collect(s.address().port, clientPort, { windowMs: 1300, retransmitAtMs: [1100] });
    expect(secs).toEqual([0, 1]);
  });

  it('ends at once when aborted, and closes its socket', async () => {
    const clientPort = await freePort('udp');
    const server = await fakeServer(() => {});
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 150);
    const r = await collect(server.port, clientPort, { windowMs: 10_000, signal: ctl.signal });
    expect(r.endedBy).toBe('aborted');
    expect(r.elapsedMs).toBeLessThan(5000);
    const again = await udp(clientPort); // the port is free again
    expect(again.address().port).toBe(clientPort);
  });

  it('says so when no DISCOVER could be sent', async () => {
    const clientPort = await freePort('udp');
    // Port 0 cannot be sent to: the send fails without a packet leaving loopback.
    const r = await collect(0, clientPort);
    expect(r.sent).toBe(0);
    expect(r.endedBy).toBe('unsendable');
    expect(r.elapsedMs).toBeLessThan(1000);
    expect(r.sendErrors[0]).toMatch(/ERR_SOCKET_BAD_PORT/);
  });
});

describe('openClientSocket', () => {
  it('binds beside a DHCP client that shares the port (SO_REUSEADDR), as udhcpc and dhclient do', async () => {
    const port = await freePort('udp');
    await udp(port, true);
    const ours = await openClientSocket(port, '127.0.0.1');
    sockets.push(ours);
    expect(ours.address().port).toBe(port);
  });

  it('reports a port held without SO_REUSEADDR as DhcpBindError EADDRINUSE', async () => {
    const port = await freePort('udp');
    await udp(port, false);
    const err = await openClientSocket(port, '127.0.0.1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DhcpBindError);
    expect((err as DhcpBindError).code).toBe('EADDRINUSE');
  });

  itNeeds(NOT_ROOT, 'reports no permission for port 68 as DhcpBindError EACCES (as nobody, in an empty network namespace; needs root to make one)', () => {
    // A fresh namespace with nothing but a down loopback: even a bug here could not send a packet anywhere.
    const modulePath = nobodyDist('probes/net/dhcp-socket.js');
    expect(existsSync(modulePath), `${modulePath} missing: build first (npx tsc -p tsconfig.build.json)`).toBe(true);
    const script = `import { openClientSocket } from ${JSON.stringify(modulePath)};
      openClientSocket().then((s) => { s.close(); console.log('bound'); }, (e) => console.log(e.name, e.code));`;
    const r = spawnSync('unshare', ['--net', 'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('DhcpBindError EACCES');
  });
});
