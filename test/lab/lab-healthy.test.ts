/**
 * The healthy lab, checked with plain tools (dig, busybox wget, a raw UDP
 * packet): the seed's network works the way the probes will expect it to.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeLab, openvpnHardReset } from '../support/lab.js';

describeLab('lab: healthy network', (lab) => {
  it('gives the Pis and the client their reserved addresses through real DHCP', async () => {
    expect(await lab().addresses('pi-dns')).toEqual(['192.168.1.10']);
    expect(await lab().addresses('pi-vpn')).toEqual(['192.168.1.20']);
    expect(await lab().addresses('client')).toEqual(['192.168.1.50']);
    const leases = readFileSync(lab().leaseFile, 'utf8');
    expect(leases).toMatch(/ b8:27:eb:00:00:10 192\.168\.1\.10 pi-dns /);
    expect(leases).toMatch(/ b8:27:eb:00:00:20 192\.168\.1\.20 pi-vpn /);
    expect(leases).toMatch(/ dc:a6:32:00:00:99 192\.168\.1\.50 client /);
    // The client took the DNS server and gateway from the offer.
    const resolv = await lab().exec('client', ['cat', '/etc/resolv.conf']);
    expect(resolv.stdout).toContain('nameserver 192.168.1.10');
    const route = await lab().exec('pi-vpn', ['ip', '-4', 'route', 'show', 'default']);
    expect(route.stdout).toContain('default via 192.168.1.1 dev eth0');
  });

  it('resolves local and external names through pi-dns from the client', async () => {
    const dig = async (...q: string[]) => (await lab().exec('client', ['dig', '+short', '+time=2', '+tries=2', '@192.168.1.10', ...q])).stdout.trim();
    expect(await dig('pi-vpn.home')).toBe('192.168.1.20');
    expect(await dig('pi-dns.home')).toBe('192.168.1.10');
    expect(await dig('router.home')).toBe('192.168.1.1');
    expect(await dig('graphite.home')).toBe('192.168.1.10');
    expect(await dig('-x', '192.168.1.20')).toBe('pi-vpn.home.');
    expect(await dig('example.com')).toBe('203.0.113.80');
    expect(await dig('www.example.com')).toBe('203.0.113.80');
    expect(await dig('home.dyn.example.net')).toBe('203.0.113.10');
    // The public resolver also names the DDNS zone's server.
    const ns = await lab().exec('vps', ['dig', '+short', '+time=2', '@203.0.113.53', 'dyn.example.net', 'NS']);
    expect(ns.stdout.trim()).toBe('ns1.dyn.example.net.');
    const nx = await lab().exec('client', ['dig', '+time=2', '@192.168.1.10', 'no-such-name.example.com']);
    expect(nx.stdout).toContain('status: NXDOMAIN');
  });

  it('answers an OpenVPN hard reset from the vps through the router\'s forward', async () => {
    const reply = await openvpnHardReset(lab(), 'vps', '203.0.113.10', 1194, { sessionId: '0102030405060708' });
    expect(reply?.from).toBe('203.0.113.10:1194');
    expect(reply?.opcode).toBe(8); // P_CONTROL_HARD_RESET_SERVER_V2
    expect(reply?.ackedSession).toBe('0102030405060708');
    expect(reply?.acked).toEqual([0]);
  });

  it('keeps the tls-auth instance silent for an unsigned reset and exposes its key', async () => {
    const { keyFile, direction, digest, port } = lab().tlsAuth;
    expect({ direction, digest, port }).toEqual({ direction: 1, digest: 'SHA1', port: 1195 });
    expect(readFileSync(keyFile, 'utf8')).toContain('-----BEGIN OpenVPN Static key V1-----');
    const listening = await lab().exec('pi-vpn', ['ss', '-Hlnu', 'sport = :1195']);
    expect(listening.stdout).toContain(':1195');
    expect(await openvpnHardReset(lab(), 'client', '192.168.1.20', 1195, { waitMs: 2000 })).toBeUndefined();
    // …while the plain instance on the same Pi answers the very same packet.
    expect((await openvpnHardReset(lab(), 'client', '192.168.1.20', 1194))?.opcode).toBe(8);
  });

  it('echoes the router\'s WAN address over HTTP', async () => {
    const r = await lab().exec('client', ['busybox', 'wget', '-qO-', 'http://203.0.113.1/']);
    expect(r.stdout).toBe('203.0.113.10');
    const outside = await lab().exec('vps', ['busybox', 'wget', '-qO-', 'http://203.0.113.1/']);
    expect(outside.stdout).toBe('198.51.100.20');
  });

  it('has no way out to the host\'s network', async () => {
    for (const node of ['router', 'isp', 'vps', 'client'] as const) {
      const routes = (await lab().exec(node, ['ip', '-4', 'route', 'show'])).stdout;
      expect(routes, node).not.toMatch(/\b10\.255\./);
    }
    // The isp is the end of the lab's internet: no default route at all.
    expect((await lab().exec('isp', ['ip', '-4', 'route', 'show', 'default'])).stdout.trim()).toBe('');
  });

  const dir = mkdtempSync(join(tmpdir(), 'nd-lab-probe-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs a probe module inside a node with the lab config (runProbe plumbing)', async () => {
    const probe = join(dir, 'whoami.mjs');
    writeFileSync(probe, `
import { networkInterfaces } from 'node:os';
export const whoamiProbe = {
  name: 'hosts', title: 'test probe', vantages: ['inside', 'outside'],
  async run(ctx) {
    const eth0 = (networkInterfaces().eth0 ?? []).find((a) => a.family === 'IPv4');
    ctx.emit({ check: 'whoami', subject: 'eth0', status: 'ok', reason: 'seen', summary: eth0?.address ?? 'none',
      data: { address: eth0?.address, iface: ctx.config.interface, dns: ctx.config.dns.servers, vantage: ctx.vantage } });
  },
};
`);
    const inside = await lab().runProbeModule('client', probe);
    expect(inside).toHaveLength(1);
    expect(inside[0]).toMatchObject({ probe: 'hosts', status: 'ok', data: { address: '192.168.1.50', iface: 'eth0', dns: ['192.168.1.10'], vantage: 'inside' } });
    const outside = await lab().runProbeModule('vps', probe, { vantage: 'outside', configYaml: 'site: x\n' });
    expect(outside[0].data).toMatchObject({ address: '198.51.100.20', vantage: 'outside', dns: ['203.0.113.53'] });
  });

  it('runs the built CLI inside a node', async () => {
    const r = await lab().runNetdoctor('client', ['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
