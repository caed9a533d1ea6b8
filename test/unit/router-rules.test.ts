/** The rules that read the router's own answers: a stale UPnP mapping for the VPN port, the WAN link the router reports down. */
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/diagnose/index.js';
import type { Observation } from '../../src/probes/types.js';
import { configFrom } from '../support/config.js';

function obs(probe: Observation['probe'], check: string, subject: string, status: Observation['status'], reason: string, data: unknown, labels: Record<string, string> = {}): Observation {
  return { id: `${probe}:${check}:${subject}`, probe, check, subject, status, reason, summary: `${check} ${reason}`, labels, values: {}, data, durationMs: 1, at: '2026-12-03T10:00:00.000Z' };
}

const config = configFrom([
  'hosts: [{ name: pi-vpn, mac: "b8:27:eb:00:00:20", ip: 192.168.1.20, roles: [vpn] }]',
  'router: { ip: 192.168.1.1 }',
  'vpn: { host: pi-vpn, proto: udp, port: 1194, publicName: home.dyn.example.net }',
].join('\n'));
const upnp = obs('router', 'upnp', 'router', 'ok', 'found', { location: 'http://192.168.1.1:5000/rootDesc.xml', presentationUrl: 'http://192.168.1.1/', answerMs: 5 });
const mapping = (to: string) => obs('router', 'mappings', 'upnp', 'ok', 'listed', { complete: true, unreadable: 0, mappings: [{ protocol: 'UDP', externalPort: 1194, internalClient: to, internalPort: 1194, enabled: true, description: 'openvpn' }] });
const movedTo = (ip: string) => obs('hosts', 'host', 'pi-vpn', 'fail', 'moved', { actualIp: ip }, { host: 'pi-vpn', actual: ip });
const vpnUnreachable = obs('vpn', 'handshake', 'public', 'fail', 'no-reply', { target: 'public', address: '203.0.113.10', port: 1194, proto: 'udp' }, { target: 'public', name: 'home.dyn.example.net' });

describe('upnp-mapping-stale', () => {
  it('a mapping for the VPN port at the old address, with the Pi moved, is a cause like a stale forward', () => {
    const d = diagnose([upnp, mapping('192.168.1.20'), movedTo('192.168.1.105'), vpnUnreachable], config);
    const f = d.findings.find((x) => x.id === 'upnp-mapping-stale');
    expect(f?.labels).toEqual({ port: '1194', to: '192.168.1.20', actual: '192.168.1.105' });
    expect(f?.fixes[0].steps[0]).toMatch(/status page \(http:\/\/192\.168\.1\.1\/\), UPnP section/);
  });

  it('nothing when the mapping points where the Pi is', () => {
    expect(diagnose([upnp, mapping('192.168.1.105'), movedTo('192.168.1.105')], config).findings.map((x) => x.id)).not.toContain('upnp-mapping-stale');
  });
});

describe('router-wan-down', () => {
  const wanDown = obs('wan', 'summary', 'wan', 'fail', 'down', { reachable: [], unreachable: ['1.1.1.1'] });
  it('the router saying its WAN link is down explains the internet being down', () => {
    const d = diagnose([wanDown, obs('router', 'connection', 'wan', 'fail', 'not-connected', { status: 'Disconnected', lastError: 'ERROR_NO_CARRIER' })], config);
    const cause = d.findings.find((x) => x.id === 'router-wan-down');
    expect(cause?.severity).toBe('critical');
    expect(cause?.explanation).toMatch(/Disconnected.*ERROR_NO_CARRIER/);
    expect(d.findings.find((x) => x.id === 'wan-down')?.suppressedBy).toContain('router-wan-down{}');
  });

  it('a very short uptime while the internet failed is a reconnection; a long one says nothing', () => {
    const short = obs('router', 'connection', 'wan', 'ok', 'connected', { status: 'Connected', uptimeS: 20 });
    expect(diagnose([wanDown, short], config).findings.find((x) => x.id === 'router-wan-down')?.severity).toBe('warning');
    const long = obs('router', 'connection', 'wan', 'ok', 'connected', { status: 'Connected', uptimeS: 86_400 });
    expect(diagnose([wanDown, long], config).findings.map((x) => x.id)).not.toContain('router-wan-down');
  });
});
