/**
 * Each named fault changes the lab exactly as documented, and `heal` brings
 * back the healthy network — checked with plain tools (ip, dig, ping, busybox
 * wget, nmap's DHCP discover, a raw OpenVPN reset), never netdoctor's probes.
 */
import { readFileSync } from 'node:fs';
import { afterEach, expect, it } from 'vitest';
import { linkLocalFor } from '../../src/lab/topology.js';
import { describeLab, openvpnHardReset, type TestLab } from '../support/lab.js';

async function dig(lab: TestLab, server: string, name: string, node: 'client' | 'vps' = 'client'): Promise<string> {
  return (await lab.exec(node, ['dig', '+short', '+time=1', '+tries=2', `@${server}`, name])).stdout.trim();
}

/**
 * The echo's answer, or '' when the internet is out of reach. Node's fetch rather than
 * busybox wget, which crashes on an unreachable host, or curl, which a fresh Debian lacks.
 */
const FETCH_ECHO = "fetch('http://203.0.113.1/', { signal: AbortSignal.timeout(3000) }).then((r) => r.text()).then((t) => process.stdout.write(t), () => {})";
async function echo(lab: TestLab, node: 'client' | 'vps' = 'client'): Promise<string> {
  return (await lab.exec(node, [process.execPath, '-e', FETCH_ECHO])).stdout;
}

async function pings(lab: TestLab, node: 'client' | 'vps', ip: string, ttl?: number): Promise<{ ok: boolean; out: string }> {
  const r = await lab.exec(node, ['ping', '-n', '-c', '1', '-W', '2', ...(ttl ? ['-t', String(ttl)] : []), ip]);
  return { ok: r.code === 0, out: r.stdout };
}

/** DHCP offers seen from the client by nmap's broadcast discover (random MAC, DISCOVER only: no lease taken). */
async function dhcpOffers(lab: TestLab): Promise<Array<{ server: string; offered: string; router?: string; dns?: string }>> {
  const r = await lab.exec('client', ['nmap', '-e', 'eth0', '--script', 'broadcast-dhcp-discover', '--script-args', 'broadcast-dhcp-discover.timeout=8s'], { timeoutMs: 30_000 });
  return r.stdout.split(/Response \d+ of \d+:/).slice(1).map((block) => ({
    server: /Server Identifier: (\S+)/.exec(block)?.[1] ?? '',
    offered: /IP Offered: (\S+)/.exec(block)?.[1] ?? '',
    router: /Router: (\S+)/.exec(block)?.[1],
    dns: /Domain Name Server: (\S+)/.exec(block)?.[1],
  }));
}

async function namespaces(lab: TestLab): Promise<string[]> {
  return (await lab.lab.status()).nodes.filter((n) => n.exists).map((n) => n.node);
}

/** Everything the healthy-lab test checks, in one go, so each fault test can prove heal worked. */
async function expectHealthy(lab: TestLab): Promise<void> {
  expect(await lab.addresses('pi-dns')).toEqual(['192.168.1.10']);
  expect(await lab.addresses('pi-vpn')).toEqual(['192.168.1.20']);
  expect(await lab.addresses('client')).toEqual(['192.168.1.50']);
  expect(await lab.addresses('router', 'wan0')).toEqual(['203.0.113.10']);
  const leases = readFileSync(lab.leaseFile, 'utf8').trim().split('\n').map((l) => l.split(' ').slice(1, 4).join(' ')).sort();
  expect(leases).toEqual(['b8:27:eb:00:00:10 192.168.1.10 pi-dns', 'b8:27:eb:00:00:20 192.168.1.20 pi-vpn', 'dc:a6:32:00:00:99 192.168.1.50 client']);
  expect(await dig(lab, '192.168.1.10', 'pi-vpn.home')).toBe('192.168.1.20');
  expect(await dig(lab, '192.168.1.10', 'example.com')).toBe('203.0.113.80');
  expect(await echo(lab)).toBe('203.0.113.10');
  expect((await openvpnHardReset(lab, 'vps', '203.0.113.10', 1194))?.opcode).toBe(8);
  expect(await namespaces(lab)).toEqual(['router', 'pi-dns', 'pi-vpn', 'client', 'isp', 'vps']);
  const st = await lab.lab.status();
  expect(st.faults).toEqual([]);
  expect(st.processes.filter((p) => !p.running)).toEqual([]);
  expect(st.processes.map((p) => p.name).sort()).toEqual([
    'client/udhcpc', 'isp/dnsmasq', 'isp/httpd', 'pi-dns/dnsmasq', 'pi-dns/udhcpc', 'pi-vpn/openvpn', 'pi-vpn/openvpn-tls-auth', 'pi-vpn/udhcpc', 'router/dnsmasq', 'router/miniupnpd',
  ]);
}

describeLab('lab: faults and heal', (lab) => {
  // A test that failed midway must not leave its fault to the next one.
  afterEach(async () => {
    if (lab().lab.faults.length) await lab().heal();
  });

  it('unplugged-pi: router DHCP stops, the Pis fall back to link-local, the client keeps its lease', async () => {
    await lab().fault('unplugged-pi');
    expect(await lab().addresses('pi-dns')).toEqual([linkLocalFor('b8:27:eb:00:00:10')]);
    expect(await lab().addresses('pi-vpn')).toEqual([linkLocalFor('b8:27:eb:00:00:20')]);
    expect(linkLocalFor('b8:27:eb:00:00:10')).toMatch(/^169\.254\.(\d+)\.(\d+)$/);
    expect(await lab().addresses('client')).toEqual(['192.168.1.50']);
    expect((await lab().exec('router', ['ss', '-Hlnu', 'sport = :67'])).stdout.trim()).toBe('');
    expect(await dhcpOffers(lab())).toEqual([]);
    // The Pis are gone from the LAN: the router's hard-coded DNS and forward point at nothing.
    expect((await pings(lab(), 'client', '192.168.1.10')).ok).toBe(false);
    expect(await openvpnHardReset(lab(), 'vps', '203.0.113.10', 1194, { waitMs: 1500 })).toBeUndefined();
    expect((await pings(lab(), 'client', '192.168.1.1')).ok).toBe(true);
    await lab().heal();
    await expectHealthy(lab());
  });

  it('reservations-lost: DHCP is back without reservations; the Pis move into the pool, their servers follow', async () => {
    await lab().fault('reservations-lost');
    const [dnsAt] = await lab().addresses('pi-dns');
    const [vpnAt] = await lab().addresses('pi-vpn');
    for (const ip of [dnsAt, vpnAt]) {
      const last = Number(ip.split('.')[3]);
      expect(ip.startsWith('192.168.1.') && last >= 100 && last <= 199, ip).toBe(true);
    }
    expect(await lab().addresses('client')).toEqual(['192.168.1.50']);
    const leases = readFileSync(lab().leaseFile, 'utf8');
    expect(leases).not.toContain('192.168.1.10 ');
    expect(leases).not.toContain('dc:a6:32:00:00:99'); // the old lease file was cleared
    expect(leases).toContain(`b8:27:eb:00:00:10 ${dnsAt} `);
    expect(readFileSync(`${lab().stateDir}/router-dnsmasq.conf`, 'utf8')).not.toMatch(/^dhcp-host=/m);
    // Servers keep running at the new addresses; the old ones answer nothing.
    expect(await dig(lab(), dnsAt, 'pi-vpn.home')).toBe('192.168.1.20');
    expect((await openvpnHardReset(lab(), 'client', vpnAt, 1194))?.opcode).toBe(8);
    expect((await pings(lab(), 'client', '192.168.1.10')).ok).toBe(false);
    // The forward still points at .20: from outside, nobody answers.
    expect(await openvpnHardReset(lab(), 'vps', '203.0.113.10', 1194, { waitMs: 1500 })).toBeUndefined();
    await lab().heal();
    await expectHealthy(lab());
  });

  it('dns-down: pi-dns stops answering DNS but stays on the network at .10', async () => {
    await lab().fault('dns-down');
    const r = await lab().exec('client', ['dig', '+time=1', '+tries=1', '@192.168.1.10', 'pi-vpn.home']);
    expect(r.stdout).not.toMatch(/ANSWER SECTION/);
    expect((await lab().exec('pi-dns', ['ss', '-Hlnu', 'sport = :53'])).stdout.trim()).toBe('');
    expect(await lab().addresses('pi-dns')).toEqual(['192.168.1.10']);
    expect((await pings(lab(), 'client', '192.168.1.10')).ok).toBe(true);
    await lab().heal();
    await expectHealthy(lab());
  });

  it('vpn-down: both OpenVPN servers stop; pi-vpn stays up at .20', async () => {
    await lab().fault('vpn-down');
    expect(await openvpnHardReset(lab(), 'client', '192.168.1.20', 1194, { waitMs: 1500 })).toBeUndefined();
    expect(await openvpnHardReset(lab(), 'vps', '203.0.113.10', 1194, { waitMs: 1500 })).toBeUndefined();
    const ports = (await lab().exec('pi-vpn', ['ss', '-Hlnu'])).stdout;
    expect(ports).not.toMatch(/:119[45]\s/);
    expect((await pings(lab(), 'client', '192.168.1.20')).ok).toBe(true);
    await lab().heal();
    await expectHealthy(lab());
  });

  it('ddns-stale: the WAN address moves to .11, the DDNS record stays .10, the forward follows', async () => {
    await lab().fault('ddns-stale');
    expect(await lab().addresses('router', 'wan0')).toEqual(['203.0.113.11']);
    expect(await dig(lab(), '203.0.113.53', 'home.dyn.example.net', 'vps')).toBe('203.0.113.10');
    expect(await echo(lab())).toBe('203.0.113.11');
    expect((await openvpnHardReset(lab(), 'vps', '203.0.113.11', 1194))?.opcode).toBe(8);
    expect(await openvpnHardReset(lab(), 'vps', '203.0.113.10', 1194, { waitMs: 1500 })).toBeUndefined();
    await lab().heal();
    await expectHealthy(lab());
  });

  it('isp-down: the WAN link is down; the LAN still works', async () => {
    await lab().fault('isp-down');
    const link = (await lab().exec('router', ['ip', '-br', 'link', 'show', 'wan0'])).stdout;
    expect(link).toMatch(/\bDOWN\b/);
    expect((await pings(lab(), 'client', '203.0.113.1')).ok).toBe(false);
    expect(await echo(lab())).toBe('');
    expect(await dig(lab(), '192.168.1.10', 'pi-vpn.home')).toBe('192.168.1.20');
    expect(await openvpnHardReset(lab(), 'vps', '203.0.113.10', 1194, { waitMs: 1500 })).toBeUndefined();
    await lab().heal();
    await expectHealthy(lab());
  });

  it('rogue-dhcp: a second DHCP server offers its own gateway and DNS', async () => {
    await lab().fault('rogue-dhcp');
    expect(await namespaces(lab())).toContain('rogue');
    expect(await lab().addresses('rogue')).toEqual(['192.168.1.254']);
    const offers = await dhcpOffers(lab());
    const byServer = Object.fromEntries(offers.map((o) => [o.server, o]));
    expect(Object.keys(byServer).sort()).toEqual(['192.168.1.1', '192.168.1.254']);
    expect(byServer['192.168.1.254']).toMatchObject({ router: '192.168.1.254', dns: '192.168.1.254' });
    expect(Number(byServer['192.168.1.254'].offered.split('.')[3])).toBeGreaterThanOrEqual(200);
    expect(byServer['192.168.1.1']).toMatchObject({ router: '192.168.1.1', dns: '192.168.1.10' });
    // The machines already on the LAN keep their leases.
    expect(await lab().addresses('pi-dns')).toEqual(['192.168.1.10']);
    await lab().heal();
    await expectHealthy(lab());
    expect(await dhcpOffers(lab())).toEqual([expect.objectContaining({ server: '192.168.1.1' })]);
  });

  it('cgnat: the router sits behind a carrier NAT; the first hop is in 100.64/10 and the forward is dead', async () => {
    await lab().fault('cgnat');
    expect(await lab().addresses('router', 'wan0')).toEqual(['100.64.0.10']);
    const hop = await lab().exec('client', ['ping', '-n', '-c', '3', '-i', '0.3', '-W', '2', '-t', '2', '203.0.113.1']).then((r) => ({ out: r.stdout + r.stderr }));
    expect(hop.out).toMatch(/From 100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.\d+\.\d+ .*[Tt]ime to live exceeded/);
    expect(await echo(lab())).toBe('203.0.113.99');
    expect(await openvpnHardReset(lab(), 'vps', '203.0.113.10', 1194, { waitMs: 1500 })).toBeUndefined();
    expect(await openvpnHardReset(lab(), 'vps', '203.0.113.99', 1194, { waitMs: 1500 })).toBeUndefined();
    expect(await dig(lab(), '192.168.1.10', 'example.com')).toBe('203.0.113.80');
    await lab().heal();
    await expectHealthy(lab());
  });

  it('composes faults: the seed\'s outage in order, plus WAN trouble, healed in one step', async () => {
    await lab().fault('unplugged-pi');
    await lab().fault('reservations-lost', 'ddns-stale', 'dns-down');
    expect(lab().lab.faults).toEqual(['unplugged-pi', 'reservations-lost', 'ddns-stale', 'dns-down']);
    // The later reservations-lost decides DHCP: the Pis are in the pool, not link-local.
    const [vpnAt] = await lab().addresses('pi-vpn');
    expect(Number(vpnAt.split('.')[3])).toBeGreaterThanOrEqual(100);
    expect(await lab().addresses('router', 'wan0')).toEqual(['203.0.113.11']);
    await lab().fault('cgnat', 'isp-down');
    expect(await lab().addresses('router', 'wan0')).toEqual(['100.64.0.10']);
    expect((await lab().exec('router', ['ip', '-br', 'link', 'show', 'wan0'])).stdout).toMatch(/\bDOWN\b/);
    await lab().heal();
    await expectHealthy(lab());
  });
});
