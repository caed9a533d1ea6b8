/**
 * The hosts probe against the lab's real LAN: a Linux bridge, the router's
 * dnsmasq handing out (or no longer handing out) the Pis' reserved addresses,
 * busybox udhcpc on the Pis. Run inside the `client` node, as root (the
 * harness) and, where it matters, as nobody: the sweep must be right without
 * privilege, and as root it may also drop the cached entries that fail.
 */
import { expect, it } from 'vitest';
import { DHCP_CLIENTS, LAN, linkLocalFor } from '../../src/lab/topology.js';
import type { HostData, SweepData } from '../../src/probes/hosts.js';
import { parseNeighJson } from '../../src/probes/net/neighbours.js';
import type { Observation } from '../../src/probes/types.js';
import { describeLab, hostRun, routerMac, type TestLab } from '../support/lab.js';
import { finishedInTime, listObservations } from '../support/observations.js';

const PI_DNS = DHCP_CLIENTS['pi-dns'];
const PI_VPN = DHCP_CLIENTS['pi-vpn'];
const IMPOSTER_MAC = '02:00:00:00:0b:ad';

function host(obs: Observation[], name: string): Observation<HostData> {
  const o = obs.find((x) => x.check === 'host' && x.subject === name);
  if (!o) throw new Error(`no host observation for ${name}; got:\n${listObservations(obs)}`);
  return o as Observation<HostData>;
}

function sweepOf(obs: Observation[]): Observation<SweepData> {
  const o = obs.find((x) => x.check === 'sweep');
  if (!o) throw new Error(`no sweep observation; got:\n${listObservations(obs)}`);
  return o as Observation<SweepData>;
}

/** The probe as an unprivileged user (nobody) in the client: no CAP_NET_ADMIN, so it cannot touch the neighbour table. */
const runAsNobody = (lab: TestLab): Promise<Observation[]> => lab.runProbe('client', 'hosts', { asNobody: true });

/** What the client's kernel holds for an address, read without sending anything. */
async function cached(lab: TestLab, ip: string): Promise<{ mac?: string; state?: string }> {
  const r = await lab.exec('client', ['ip', '-j', '-s', '-4', 'neigh', 'show', 'dev', 'eth0', 'to', ip]);
  const e = parseNeighJson(r.stdout)[0];
  return e ? { mac: e.mac, state: e.state } : {};
}

/** A setup step in the host namespace (namespace and link plumbing only, never traffic) that must work. */
async function must(argv: string[]): Promise<void> {
  const r = await hostRun(argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr.trim()}`);
}

/** A setup step inside a lab node that must work. */
async function inNode(l: TestLab, node: Parameters<TestLab['exec']>[0], argv: string[]): Promise<void> {
  const r = await l.exec(node, argv);
  if (r.code !== 0) throw new Error(`${node}: ${argv.join(' ')} failed: ${r.stderr.trim()}`);
}

async function pingFromClient(lab: TestLab, ip: string, extra: string[] = []): Promise<boolean> {
  const r = await lab.exec('client', ['ping', '-n', '-c', '2', '-i', '0.2', '-W', '1', ...extra, ip]);
  return r.code === 0;
}

describeLab('hosts probe in the lab', (lab) => {
  it('healthy: both Pis at their addresses; the sweep finds exactly the router and the Pis', async () => {
    const obs = await lab().runProbe('client', 'hosts');
    finishedInTime(obs);
    for (const [name, pi] of [['pi-dns', PI_DNS], ['pi-vpn', PI_VPN]] as const) {
      const h = host(obs, name);
      expect(h.status, h.summary).toBe('ok');
      expect(h).toMatchObject({ reason: 'at-expected', labels: { host: name, mac: pi.mac, expected: pi.ip, actual: pi.ip }, values: { present: 1, loss_pct: 0 } });
      expect(h.data).toMatchObject({ name, mac: pi.mac, expectedIp: pi.ip, actualIp: pi.ip, lossPct: 0 });
      expect(h.values.rtt_ms).toBeGreaterThan(0);
    }
    const s = sweepOf(obs);
    expect(s).toMatchObject({ status: 'ok', reason: 'swept', subject: '192.168.1.0', labels: { subnet: LAN.cidr }, values: { addresses: 254 } });
    expect(s.data!.alive.map((a) => [a.ip, a.mac])).toEqual([
      [LAN.router, await routerMac(lab())],
      [PI_DNS.ip, PI_DNS.mac],
      [PI_VPN.ip, PI_VPN.mac],
    ]);
    expect(s.values.alive).toBe(3);
  });

  it('another MAC on a Pi\'s address: conflict, also when the client still caches the Pi there', async () => {
    const l = lab();
    const ns = `${l.prefix}-imp`;
    const port = `${l.prefix}imp`.slice(0, 15);
    // The client has just talked to pi-dns: its cache maps .10 to the Pi.
    expect(await pingFromClient(l, PI_DNS.ip)).toBe(true);
    await inNode(l, 'pi-dns', ['ip', 'link', 'set', 'eth0', 'down']);
    try {
      await must(['ip', 'netns', 'add', ns]);
      // The switch port gets a high MAC: a Linux bridge takes the lowest MAC of its ports, and the router must keep its own.
      await must(['ip', '-n', l.ns('router'), 'link', 'add', port, 'address', 'fe:ff:ff:00:0b:ad', 'type', 'veth', 'peer', 'name', 'eth0', 'address', IMPOSTER_MAC, 'netns', ns]);
      await inNode(l, 'router', ['ip', 'link', 'set', port, 'master', LAN.bridge, 'up']);
      await must(['ip', '-n', ns, 'addr', 'add', `${PI_DNS.ip}/24`, 'dev', 'eth0']);
      await must(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
      expect(await cached(l, PI_DNS.ip)).toMatchObject({ mac: PI_DNS.mac });

      // Unprivileged, a silent newcomer behind a trusted cache entry cannot be seen yet; the Pi must not look present.
      const quiet = host(await runAsNobody(l), 'pi-dns');
      expect(quiet.reason, quiet.summary).not.toBe('at-expected');
      expect(quiet.values.present).toBe(0);

      // As root the entry that failed the echo is dropped and asked again by ARP: the newcomer answers.
      const obs = await l.runProbe('client', 'hosts');
      finishedInTime(obs);
      const h = host(obs, 'pi-dns');
      expect(h.status, h.summary).toBe('fail');
      expect(h).toMatchObject({ reason: 'conflict', labels: { expected: PI_DNS.ip }, values: { present: 0 } });
      expect(h.data).toMatchObject({ conflictMac: IMPOSTER_MAC, expectedIp: PI_DNS.ip });
      expect(h.data!.actualIp).toBeUndefined();
      expect(host(obs, 'pi-vpn').reason).toBe('at-expected');

      // Unprivileged too, once the newcomer announces itself (as DHCP clients do).
      await must(['ip', 'netns', 'exec', ns, 'busybox', 'arping', '-U', '-c', '1', '-I', 'eth0', PI_DNS.ip]);
      const announced = host(await runAsNobody(l), 'pi-dns');
      expect(announced).toMatchObject({ reason: 'conflict', data: { conflictMac: IMPOSTER_MAC } });
    } finally {
      await hostRun(['ip', 'netns', 'del', ns]).catch(() => {});
      await inNode(l, 'pi-dns', ['ip', 'link', 'set', 'eth0', 'up']);
    }
    // Back: pi-dns at its address again (the cache pointed at the newcomer; the sweep asks again).
    await expect.poll(async () => host(await l.runProbe('client', 'hosts'), 'pi-dns').reason, { timeout: 20_000, interval: 500 }).toBe('at-expected');
  });

  it('a subnet wider than /22: the sweep is refused and says how to allow it; the configured addresses are still checked', async () => {
    const l = lab();
    const wide = l.configYaml().replace(`subnet: ${LAN.cidr}`, 'subnet: 192.168.0.0/16');
    expect(wide).toContain('192.168.0.0/16');
    const obs = await l.runProbe('client', 'hosts', { configYaml: wide });
    finishedInTime(obs);
    const s = sweepOf(obs);
    expect(s).toMatchObject({ status: 'error', reason: 'too-wide', labels: { subnet: '192.168.0.0/16' } });
    expect(s.summary).toMatch(/--force/);
    for (const name of ['pi-dns', 'pi-vpn']) expect(host(obs, name)).toMatchObject({ status: 'ok', reason: 'at-expected' });
    // Nothing outside the named addresses was asked: the client's table holds no other 192.168.x.y entry made by this run.
    const table = parseNeighJson((await l.exec('client', ['ip', '-j', '-4', 'neigh', 'show', 'dev', 'eth0'])).stdout);
    expect(table.filter((e) => !e.ip.startsWith('192.168.1.')).map((e) => e.ip)).toEqual([]);
  });

  it('a Pi unplugged (its link down): missing, the other Pi unaffected', async () => {
    const l = lab();
    await inNode(l, 'pi-vpn', ['ip', 'link', 'set', 'eth0', 'down']);
    try {
      const obs = await l.runProbe('client', 'hosts');
      finishedInTime(obs);
      const h = host(obs, 'pi-vpn');
      expect(h).toMatchObject({ status: 'fail', reason: 'missing', values: { present: 0, loss_pct: 100 }, labels: { host: 'pi-vpn', expected: PI_VPN.ip } });
      expect(h.labels.actual).toBeUndefined();
      expect(h.summary).toMatch(/not found at 192\.168\.1\.20 nor anywhere in 192\.168\.1\.0\/24/);
      expect(host(obs, 'pi-dns').reason).toBe('at-expected');
      expect(sweepOf(obs).data!.alive.map((a) => a.ip)).not.toContain(PI_VPN.ip);
    } finally {
      await inNode(l, 'pi-vpn', ['ip', 'link', 'set', 'eth0', 'up']);
    }
  });

  it('unplugged-pi: stale cache entries never count; the Pis are reported missing, or moved to link-local where that can be seen', async () => {
    const l = lab();
    expect(await pingFromClient(l, PI_DNS.ip)).toBe(true);
    expect(await pingFromClient(l, PI_VPN.ip)).toBe(true);
    await l.fault('unplugged-pi');
    try {
      // The Pis have left, but the client's cache still maps their old addresses to them.
      expect(await l.addresses('pi-dns')).toEqual([linkLocalFor(PI_DNS.mac)]);
      expect(await cached(l, PI_DNS.ip)).toMatchObject({ mac: PI_DNS.mac });
      expect(await cached(l, PI_VPN.ip)).toMatchObject({ mac: PI_VPN.mac });

      const unprivileged = await runAsNobody(l);
      finishedInTime(unprivileged);
      expect(await cached(l, PI_DNS.ip)).toMatchObject({ mac: PI_DNS.mac });
      const privileged = await l.runProbe('client', 'hosts');
      finishedInTime(privileged);
      for (const obs of [unprivileged, privileged]) {
        for (const [name, pi] of [['pi-dns', PI_DNS], ['pi-vpn', PI_VPN]] as const) {
          const h = host(obs, name);
          // The lab's links are IPv4-only and the client has no link-local address: nothing can see the Pis.
          expect(h, h.summary).toMatchObject({ status: 'fail', reason: 'missing', values: { present: 0 } });
          expect(h.data!.actualIp).toBeUndefined();
          expect(h.data!.expectedIp).toBe(pi.ip);
        }
        expect(sweepOf(obs).data!.alive.map((a) => a.ip)).toEqual([LAN.router]);
      }

      // A client with a link-local address of its own (avahi-autoipd, dhcpcd IPv4LL) that has talked to
      // pi-dns there can see it: moved to 169.254.x.y. IPv6 on the link shows pi-vpn is still plugged in.
      await inNode(l, 'client', ['ip', 'addr', 'add', '169.254.99.50/16', 'dev', 'eth0', 'scope', 'link']);
      for (const node of ['client', 'pi-vpn'] as const) await inNode(l, node, ['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=0', 'net.ipv6.conf.eth0.disable_ipv6=0']);
      try {
        await waitIpv6LinkLocal(l, 'client');
        await waitIpv6LinkLocal(l, 'pi-vpn');
        expect(await pingFromClient(l, linkLocalFor(PI_DNS.mac))).toBe(true);
        for (const obs of [await runAsNobody(l), await l.runProbe('client', 'hosts')]) {
          finishedInTime(obs);
          const dns = host(obs, 'pi-dns');
          expect(dns, dns.summary).toMatchObject({ status: 'fail', reason: 'moved', labels: { expected: PI_DNS.ip, actual: linkLocalFor(PI_DNS.mac) }, values: { present: 1 } });
          expect(dns.summary).toMatch(/link-local/);
          const vpn = host(obs, 'pi-vpn');
          expect(vpn, vpn.summary).toMatchObject({ status: 'fail', reason: 'missing', values: { present: 0 } });
          expect(vpn.data).toMatchObject({ onLink: true, linkLocal6: 'fe80::ba27:ebff:fe00:20' });
          expect(vpn.labels.actual).toBeUndefined();
        }
      } finally {
        await l.exec('client', ['ip', 'addr', 'del', '169.254.99.50/16', 'dev', 'eth0']);
        for (const node of ['client', 'pi-vpn'] as const) await l.exec(node, ['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.eth0.disable_ipv6=1']);
      }
    } finally {
      await l.heal();
    }
  });

  it('reservations-lost: each Pi moved, with its old and new address, right in every one of 20 runs', async () => {
    const l = lab();
    await l.fault('reservations-lost');
    try {
      const now = { 'pi-dns': (await l.addresses('pi-dns'))[0], 'pi-vpn': (await l.addresses('pi-vpn'))[0] };
      for (const ip of Object.values(now)) expect(ip).toMatch(/^192\.168\.1\.1\d\d$/);
      const wrong: string[] = [];
      for (let run = 1; run <= 20; run++) {
        const obs = await l.runProbe('client', 'hosts');
        for (const [name, pi] of [['pi-dns', PI_DNS], ['pi-vpn', PI_VPN]] as const) {
          const h = host(obs, name);
          const right = h.reason === 'moved' && h.labels.expected === pi.ip && h.labels.actual === now[name] && h.data?.actualIp === now[name] && h.values.present === 1;
          if (!right) wrong.push(`run ${run}: ${h.reason}: ${h.summary}`);
        }
        if (obs.some((o) => o.check === 'probe')) wrong.push(`run ${run}: ${listObservations(obs.filter((o) => o.check === 'probe'))}`);
      }
      expect(wrong).toEqual([]);
      // The addresses did not move under the test: the verdicts were about one stable truth.
      expect([(await l.addresses('pi-dns'))[0], (await l.addresses('pi-vpn'))[0]]).toEqual([now['pi-dns'], now['pi-vpn']]);
    } finally {
      await l.heal();
    }
  }, 180_000);
});

/** IPv6 link-local addresses are usable once duplicate address detection is over. */
async function waitIpv6LinkLocal(l: TestLab, node: 'client' | 'pi-vpn'): Promise<void> {
  await expect.poll(async () => {
    const r = await l.exec(node, ['ip', '-6', '-o', 'addr', 'show', 'dev', 'eth0', 'scope', 'link']);
    return /fe80::/.test(r.stdout) && !/tentative/.test(r.stdout);
  }, { timeout: 10_000, interval: 200 }).toBe(true);
}
