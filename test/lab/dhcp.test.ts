/**
 * The DHCP probe against the lab's real dnsmasq servers (default ping check
 * on): who answers, what each hands out, the rogue flagged, nothing taken,
 * junk on port 68 survived, and the timing the issue asks for.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { isLocallyAdministeredUnicast } from '../../src/probes/net/client-mac.js';
import type { OfferData, SummaryData } from '../../src/probes/dhcp.js';
import type { Observation } from '../../src/probes/types.js';
import { describeLab, type TestLab } from '../support/lab.js';
import { nobodyRunProbe } from '../support/nobody.js';

const ROUTER = '192.168.1.1';
const ROGUE = '192.168.1.254';
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const RUN_PROBE = join(REPO, 'test', 'support', 'run-probe.mjs');

interface DhcpRun {
  offers: Array<Observation<OfferData>>;
  summary: Observation<SummaryData>;
  all: Observation[];
}

async function probe(lab: TestLab, opts: Parameters<TestLab['runProbe']>[2] = {}): Promise<DhcpRun> {
  const all = await lab.runProbe('client', 'dhcp', opts);
  const summary = all.find((o) => o.check === 'summary') as Observation<SummaryData> | undefined;
  if (!summary) throw new Error(`no dhcp summary; observations: ${JSON.stringify(all, null, 1)}`);
  return { offers: all.filter((o) => o.check === 'offer') as Array<Observation<OfferData>>, summary, all };
}

const inPool = (ip: string, first: number, last: number) => {
  const m = /^192\.168\.1\.(\d+)$/.exec(ip);
  return !!m && Number(m[1]) >= first && Number(m[1]) <= last;
};

function expectRouterOffer(o: Observation<OfferData> | undefined): void {
  expect(o).toBeDefined();
  expect(o!).toMatchObject({ status: 'ok', reason: 'offered', subject: ROUTER, labels: { server: ROUTER, iface: 'eth0' } });
  expect(o!.data).toMatchObject({
    serverId: ROUTER, sourceIp: ROUTER, subnetMask: '255.255.255.0', router: [ROUTER], dns: ['192.168.1.10'],
    leaseSeconds: 12 * 3600, domain: 'home', expected: true, invalidOptions: [],
  });
  expect(inPool(o!.data!.offeredIp, 100, 199)).toBe(true);
  expect(o!.values).toMatchObject({ lease_s: 43200 });
}

/** Keeps port 68 open the way a DHCP client does (SO_REUSEADDR) and prints how many DHCP replies reached it. */
const PORT_68_HOLDER = `
import dgram from 'node:dgram';
const s = dgram.createSocket({ type: 'udp4', reuseAddr: true });
let replies = 0;
s.on('message', (m, r) => { if (r.port === 67 && m[0] === 2) replies++; });
s.bind(68, '0.0.0.0', () => { console.log('bound'); });
setTimeout(() => { console.log('replies ' + replies); s.close(); }, Number(process.argv[1]));
`;

/** Sprays port 68 with junk: random bytes, truncated DHCP, lying lengths, empty datagrams. */
const JUNK_SENDER = `
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
const [target, ms] = process.argv.slice(1);
const s = dgram.createSocket('udp4');
let sent = 0;
s.bind(() => {
  s.setBroadcast(true);
  const t = setInterval(() => {
    const kind = sent % 5;
    let b;
    if (kind === 0) b = randomBytes(Math.floor(Math.random() * 600));
    else if (kind === 1) { b = Buffer.alloc(300); b[0] = 2; b[2] = 6; b.writeUInt32BE(0x63825363, 236); b[240] = 53; b[241] = 200; }
    else if (kind === 2) { b = Buffer.alloc(241); b[0] = 2; b.writeUInt32BE(0x63825363, 236); b[240] = 3; }
    else if (kind === 3) { b = Buffer.alloc(300); b[0] = 2; b[2] = 99; }
    else b = Buffer.alloc(0);
    s.send(b, 68, target, () => {});
    sent++;
  }, 3);
  setTimeout(() => { clearInterval(t); console.log('sent ' + sent); s.close(); }, Number(ms));
});
`;

describeLab('dhcp probe against the lab (router dnsmasq with its default ping check)', (lab) => {
  it('sees exactly the router, with the options it really hands out', async () => {
    const r = await probe(lab());
    expect(r.all.filter((o) => o.status === 'error')).toEqual([]);
    expect(r.offers).toHaveLength(1);
    expectRouterOffer(r.offers[0]);
    expect(r.summary).toMatchObject({ status: 'ok', reason: 'served', subject: 'dhcp', labels: { iface: 'eth0' } });
    expect(r.summary.data).toMatchObject({ servers: [ROUTER], expected: [ROUTER], unexpected: [], iface: 'eth0', windowMs: 6000, target: '255.255.255.255', malformed: 0 });
    expect(r.summary.values).toMatchObject({ servers: 1, unexpected: 0 });
    expect(r.summary.values.offer_ms).toBeGreaterThanOrEqual(0);
    expect(isLocallyAdministeredUnicast(r.summary.data!.clientMac)).toBe(true);
  });

  it('20 runs in a row with the installation MAC: never a false "no server"', { timeout: 300_000 }, async () => {
    const verdicts: string[] = [];
    const macs = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const r = await probe(lab());
      verdicts.push(`${r.summary.reason} ${r.summary.data!.servers.join(',')}`);
      macs.add(r.summary.data!.clientMac);
    }
    expect(verdicts).toEqual(Array(20).fill(`served ${ROUTER}`));
    expect(macs.size).toBe(1);
  });

  const freshMacs = ['02:4e:44:00:10:01', '02:4e:44:00:10:02', '02:4e:44:00:10:03'];
  it('first contact from three new MACs: each waits out the router ping and sees it', { timeout: 90_000 }, async () => {
    for (const clientMac of freshMacs) {
      const r = await probe(lab(), { options: { clientMac } });
      expect(r.summary.data).toMatchObject({ clientMac, clientMacSource: 'option', servers: [ROUTER] });
      expectRouterOffer(r.offers[0]);
    }
  });

  it('never takes a lease: none of its MACs is in the router lease file', async () => {
    const r = await probe(lab());
    const mac = r.summary.data!.clientMac;
    expect(r.summary.data!.clientMacSource).toBe('state');
    const leases = readFileSync(lab().leaseFile, 'utf8').toLowerCase();
    expect(leases).toContain('dc:a6:32:00:00:99'); // the lease file is the live one: the client's own lease is there
    for (const m of [mac, ...freshMacs]) expect(leases).not.toContain(m);
  });

  it('coexists with a DHCP client holding port 68 all the time (as dhclient does), which still hears the replies', { timeout: 60_000 }, async () => {
    const holder = lab().exec('client', [process.execPath, '--input-type=module', '-e', PORT_68_HOLDER, '9000'], { timeoutMs: 30_000 });
    await new Promise((res) => setTimeout(res, 1000));
    const r = await probe(lab());
    const held = await holder;
    expect(held.stdout).toMatch(/^bound$/m);
    expect(r.summary.reason).toBe('served');
    expectRouterOffer(r.offers[0]);
    expect(Number(/replies (\d+)/.exec(held.stdout)?.[1])).toBeGreaterThanOrEqual(1);
  });

  it('coexists with busybox udhcpc holding 0.0.0.0%eth0:68 while it renews', { timeout: 90_000 }, async () => {
    // udhcpc binds UDP 68 only while it waits for a unicast renew (otherwise it uses a raw socket or
    // none). Drop unicast DHCP at the router so a renew waits; a second udhcpc of our own (-T 30: a
    // 30 s wait; no -R: it never releases the client's lease) then holds the port through the probe.
    const l = lab();
    const pidFile = join(l.stateDir, 'dhcp-test-udhcpc.pid');
    const drop = ['INPUT', '-p', 'udp', '--dport', '67', '-d', ROUTER, '-j', 'DROP'];
    const held = async () => (await l.exec('client', ['ss', '-Huanp', 'sport', '=', ':68'])).stdout;
    expect((await l.exec('router', ['iptables', '-I', ...drop])).code).toBe(0);
    const udhcpc = l.exec('client', ['busybox', 'udhcpc', '-f', '-i', 'eth0', '-s', '/bin/true', '-T', '30', '-t', '3', '-p', pidFile], { timeoutMs: 80_000 });
    let pid = 0;
    try {
      for (let i = 0; i < 50 && !pid; i++) {
        await new Promise((res) => setTimeout(res, 200));
        try {
          pid = Number(readFileSync(pidFile, 'utf8').trim());
        } catch {
          // not written yet
        }
      }
      expect(pid).toBeGreaterThan(0);
      await new Promise((res) => setTimeout(res, 1500)); // bound
      process.kill(pid, 'SIGUSR1'); // renew: unicast, dropped, so it keeps waiting on its UDP socket
      for (let i = 0; i < 25 && !/busybox/.test(await held()); i++) await new Promise((res) => setTimeout(res, 200));
      expect(await held()).toMatch(/0\.0\.0\.0%eth0:68 .*busybox/);
      const r = await probe(l);
      expect(await held()).toMatch(/busybox/); // still held: the probe ran beside it the whole time
      expect(r.summary.reason).toBe('served');
      expectRouterOffer(r.offers[0]);
    } finally {
      if (pid) process.kill(pid, 'SIGTERM');
      await udhcpc;
      await l.exec('router', ['iptables', '-D', ...drop]);
    }
  });

  it('survives a sender spraying junk at port 68: no crash, no hang, the router still reported, the junk counted', { timeout: 60_000 }, async () => {
    const spray = lab().exec('pi-dns', [process.execPath, '--input-type=module', '-e', JUNK_SENDER, '192.168.1.255', '8000'], { timeoutMs: 30_000 });
    await new Promise((res) => setTimeout(res, 300));
    const t0 = Date.now();
    const r = await probe(lab());
    const took = Date.now() - t0;
    const sprayed = await spray;
    expect(Number(/sent (\d+)/.exec(sprayed.stdout)?.[1])).toBeGreaterThan(100);
    expect(r.all.filter((o) => o.status === 'error')).toEqual([]);
    expect(r.summary.reason).toBe('served');
    expectRouterOffer(r.offers.find((o) => o.subject === ROUTER));
    expect(r.offers).toHaveLength(1);
    expect(r.summary.data!.malformed).toBeGreaterThan(50);
    expect(r.summary.summary).toMatch(/ignored \d+ malformed datagrams on port 68/);
    expect(took).toBeLessThan(20_000); // generous: it ends within its window, not whenever the junk stops
  });

  it("steers the DISCOVER out of the configured interface when the default route leaves by another", { timeout: 60_000 }, async () => {
    const l = lab();
    const sh = async (...argv: string[]) => {
      const res = await l.exec('client', argv);
      if (res.code !== 0) throw new Error(`${argv.join(' ')}: ${res.stderr}`);
    };
    // A second link inside the client (a veth pair, both ends here), and the default route moved onto it:
    // a DISCOVER to 255.255.255.255 would now leave by nd0 and reach nobody.
    await sh('ip', 'link', 'add', 'nd0', 'type', 'veth', 'peer', 'name', 'nd1');
    try {
      await sh('ip', 'addr', 'add', '10.77.0.2/24', 'dev', 'nd0');
      await sh('ip', 'link', 'set', 'nd1', 'up');
      await sh('ip', 'link', 'set', 'nd0', 'up');
      await sh('ip', 'route', 'replace', 'default', 'via', '10.77.0.1', 'dev', 'nd0');
      const r = await probe(l);
      expect(r.summary.data).toMatchObject({ target: '192.168.1.255', servers: [ROUTER] });
      expectRouterOffer(r.offers[0]);
    } finally {
      await l.exec('client', ['ip', 'route', 'replace', 'default', 'via', ROUTER, 'dev', 'eth0']);
      await l.exec('client', ['ip', 'link', 'del', 'nd0']);
    }
  });

  it('sees a new rogue server beside a router that answers from its cache, and says what the rogue hands out', { timeout: 90_000 }, async () => {
    const l = lab();
    const warm = await probe(l); // the router now knows our MAC: its next offer comes in milliseconds
    expect(warm.summary.reason).toBe('served');
    await l.fault('rogue-dhcp');
    try {
      const r = await probe(l);
      const router = r.offers.find((o) => o.subject === ROUTER);
      const rogue = r.offers.find((o) => o.subject === ROGUE);
      expectRouterOffer(router);
      expect(router!.data!.offerMs).toBeLessThan(1000);
      expect(rogue).toMatchObject({ status: 'fail', reason: 'unexpected-server', labels: { server: ROGUE, iface: 'eth0' } });
      expect(rogue!.data).toMatchObject({ serverId: ROGUE, sourceIp: ROGUE, router: [ROGUE], dns: [ROGUE], subnetMask: '255.255.255.0', leaseSeconds: 3600, expected: false });
      expect(inPool(rogue!.data!.offeredIp, 200, 250)).toBe(true);
      expect(rogue!.summary).toMatch(/unexpected DHCP server 192\.168\.1\.254 .*router 192\.168\.1\.254, DNS 192\.168\.1\.254/);
      expect(r.summary).toMatchObject({ status: 'fail', reason: 'unexpected-server', values: { servers: 2, unexpected: 1 } });
      expect(r.summary.data).toMatchObject({ expected: [ROUTER], unexpected: [ROGUE] });
      expect([...r.summary.data!.servers].sort()).toEqual([ROUTER, ROGUE]);
      expect(r.summary.summary).toMatch(/not in dhcp\.servers \(192\.168\.1\.1\): 192\.168\.1\.254 \(offered 192\.168\.1\.2\d\d\/24, router 192\.168\.1\.254, DNS 192\.168\.1\.254/);
    } finally {
      await l.heal();
    }
  });

  it('without permission for port 68: an error that says exactly what to do, and no crash', { timeout: 60_000 }, async () => {
    const l = lab();
    const request = JSON.stringify({ probe: 'dhcp', configYaml: l.configYaml(), deadlineMs: 10_000 });
    const r = await l.exec('client', ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, nobodyRunProbe()], {
      input: request, timeoutMs: 30_000,
    });
    expect(r.stderr).toBe('');
    const obs = JSON.parse(r.stdout) as Observation[];
    expect(obs).toHaveLength(1);
    expect(obs[0]).toMatchObject({ probe: 'dhcp', check: 'probe', subject: 'dhcp', status: 'error', reason: 'permission' });
    expect(obs[0].summary).toMatch(/UDP port 68 \(EACCES\).*run netdoctor as root.*setcap cap_net_bind_service,cap_net_raw\+ep/);
  });
});

describeLab('dhcp probe with the router DHCP stopped (unplugged-pi)', (lab) => {
  it('reports no server at the end of the window, not later', { timeout: 60_000 }, async () => {
    const r = await probe(lab());
    expect(r.offers).toEqual([]);
    expect(r.summary).toMatchObject({ status: 'fail', reason: 'no-offer', values: { servers: 0, unexpected: 0 } });
    expect(r.summary.values.offer_ms).toBeUndefined();
    expect(r.summary.data).toMatchObject({ servers: [], windowMs: 6000, endedBy: 'window' });
    expect(r.summary.data!.discoversSent).toBe(3);
    expect(r.summary.data!.elapsedMs).toBeGreaterThanOrEqual(5990);
    expect(r.summary.durationMs).toBeLessThan(6000 + 1500);
    expect(r.summary.summary).toMatch(/no DHCP server answered on eth0 within 6s/);
  });

  it('says "cannot tell", not "no server", when the run deadline cuts the window short', { timeout: 60_000 }, async () => {
    const all = await lab().runProbe('client', 'dhcp', { deadlineMs: 3000 });
    expect(all).toHaveLength(1); // no summary: nothing was judged
    expect(all[0]).toMatchObject({ check: 'probe', subject: 'dhcp', status: 'error', reason: 'timeout' });
    const data = all[0].data as SummaryData;
    expect(data.windowMs).toBeLessThan(3000);
    expect(data.configuredWindowMs).toBe(6000);
    expect(all[0].summary).toMatch(/3-4 s; raise --deadline to judge$/);
  });
}, { faults: ['unplugged-pi'] });
