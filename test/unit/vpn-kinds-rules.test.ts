/**
 * The VPN kinds in config and diagnosis: the vpn: keys and their cross-checks
 * (errors name the key path and never quote a key), and findings and fixes
 * worded by kind; a reply under another key is vpn-wrong-key, never down.
 */
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { diagnose } from '../../src/diagnose/index.js';
import type { Observation } from '../../src/probes/types.js';
import { ConfigError } from '../../src/shared/errors.js';
import { configFrom, PRETEND_MACHINE } from '../support/config.js';

const HOSTS = 'hosts:\n  - { name: pi-vpn, mac: "b8:27:eb:00:00:20", ip: 192.168.1.20, roles: [vpn] }\n';
const WG_PUB = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';

function configError(yaml: string): string {
  try {
    parseConfigText(yaml, { machine: PRETEND_MACHINE } as never);
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  return '';
}

function handshake(reason: string, status: Observation['status'], kind: string, extra: Partial<Observation> = {}): Observation {
  return {
    id: `vpn:handshake:192.168.1.20`, probe: 'vpn', check: 'handshake', subject: '192.168.1.20:51820/udp', status, reason,
    summary: `192.168.1.20 ${reason}`, labels: { target: 'expected', host: 'pi-vpn', address: '192.168.1.20', port: '51820', proto: 'udp' },
    values: {}, durationMs: 1, at: '2026-12-03T10:00:00.000Z',
    data: { kind, signed: reason !== 'no-reply', target: 'expected', targets: ['expected'], address: '192.168.1.20', port: 51820, proto: 'udp' }, ...extra,
  };
}
const hostThere: Observation = {
  id: 'hosts:host:pi-vpn', probe: 'hosts', check: 'host', subject: 'pi-vpn', status: 'ok', reason: 'at-expected', summary: 'pi-vpn is at 192.168.1.20',
  labels: { host: 'pi-vpn' }, values: {}, durationMs: 1, at: '2026-12-03T10:00:00.000Z', data: { actualIp: '192.168.1.20', expectedIp: '192.168.1.20' },
};

describe('config', () => {
  it('takes each kind, with WireGuard on 51820 by default', () => {
    const wg = configFrom(`${HOSTS}vpn:\n  wireguard: { privateKeyFile: /etc/netdoctor/wg.key, serverPublicKey: "${WG_PUB}" }\n`);
    expect(wg.vpn).toMatchObject({ kind: 'wireguard', port: 51820, wireguard: { serverPublicKey: WG_PUB } });
    expect(configFrom(`${HOSTS}vpn:\n  tlsCrypt: { file: /etc/netdoctor/tc.key }\n`).vpn).toMatchObject({ kind: 'openvpn', port: 1194, tlsCrypt: { file: '/etc/netdoctor/tc.key' } });
  });

  it('names the key path and what would be valid, and never quotes a bad key', () => {
    const secretish = 'cPz0b3Nfb29wcy10aGlzLWlzLW5vdC1hLWtleS0hISE';
    const m = configError(`vpn:\n  wireguard: { privateKeyFile: /k, serverPublicKey: "${secretish}" }\n`);
    expect(m).toMatch(/vpn\.wireguard\.serverPublicKey/);
    expect(m).toMatch(/44 characters of base64/);
    expect(m).not.toContain(secretish);
    expect(configError('vpn:\n  kind: wireguard\n  tlsCrypt: { file: /k }\n')).toMatch(/vpn\.tlsCrypt.*OpenVPN key, but vpn\.kind is wireguard/s);
    expect(configError('vpn:\n  tlsAuth: { file: /a }\n  tlsCrypt: { file: /b }\n')).toMatch(/vpn\.tlsCrypt.*one of tlsAuth, tlsCrypt, tlsCryptV2/s);
    expect(configError('vpn:\n  kind: ipsec\n')).toMatch(/vpn\.kind.*"openvpn", "wireguard"/s);
  });
});

describe('diagnosis by kind', () => {
  const wg = configFrom(`${HOSTS}vpn:\n  kind: wireguard\n`);
  const ovpn = configFrom(`${HOSTS}vpn:\n  port: 51820\n  tlsCrypt: { file: /etc/netdoctor/tc.key }\n`);

  it('a stopped WireGuard is down, with wg show and wg-quick@wg0 in the fix', () => {
    const f = diagnose([handshake('refused', 'fail', 'wireguard'), hostThere], wg).findings.find((x) => x.id === 'vpn-service-down');
    expect(f?.title).toMatch(/WireGuard VPN on pi-vpn/);
    const text = JSON.stringify(f?.fixes);
    expect(text).toContain('sudo wg show');
    expect(text).toContain('wg-quick@wg0');
    expect(text).not.toContain('openvpn@server');
  });

  it('a stopped OpenVPN names systemctl status openvpn@server', () => {
    const f = diagnose([handshake('refused', 'fail', 'openvpn'), hostThere], ovpn).findings.find((x) => x.id === 'vpn-service-down');
    expect(JSON.stringify(f?.fixes)).toContain('sudo systemctl status openvpn@server');
  });

  it('WireGuard silence without a peer is unknown (answers only known peers), with the [Peer] way in', () => {
    const d = diagnose([handshake('no-reply', 'error', 'wireguard'), hostThere], wg);
    expect(d.findings.map((f) => f.id)).not.toContain('vpn-service-down');
    const f = d.findings.find((x) => x.id === 'vpn-unknown');
    expect(f?.title).toMatch(/WireGuard answers only known peers/);
    expect(JSON.stringify(f?.fixes)).toMatch(/\[Peer\] block/);
  });

  it('an answer under another key is vpn-wrong-key (a warning), not down and not unknown', () => {
    const d = diagnose([handshake('wrong-key', 'error', 'wireguard'), hostThere], configFrom(`${HOSTS}vpn:\n  wireguard: { privateKeyFile: /k, serverPublicKey: "${WG_PUB}" }\n`));
    const ids = d.findings.map((f) => f.id);
    expect(ids).toContain('vpn-wrong-key');
    expect(ids).not.toContain('vpn-service-down');
    expect(ids).not.toContain('vpn-unknown');
    expect(d.findings.find((f) => f.id === 'vpn-wrong-key')?.severity).toBe('warning');
  });
});
