/**
 * init reads the VPN on the machine (read only) and proposes the vpn:
 * section: OpenVPN's port, proto and control-channel key; WireGuard's
 * ListenPort and the public key `wg pubkey` would print; PiVPN's setupVars.
 * No private key appears in what it returns or proposes.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureProbeKey, readVpnOnMachine, vpnYaml } from '../../src/commands/init-vpn.js';
import { configFrom } from '../support/config.js';

const root = mkdtempSync(join(tmpdir(), 'nd-init-vpn-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const put = (file: string, text: string) => {
  mkdirSync(join(root, file, '..'), { recursive: true });
  writeFileSync(join(root, file), text);
};
const priv = execFileSync('wg', ['genkey'], { encoding: 'utf8' }).trim();
const pub = execFileSync('wg', ['pubkey'], { input: priv, encoding: 'utf8' }).trim();

describe('reading the VPN on the machine', () => {
  put('/etc/openvpn/server/server.conf', 'port 443\nproto tcp-server\n;tls-auth ta.key 0\ntls-crypt tc.key # PiVPN\n');
  put('/etc/wireguard/wg0.conf', `[Interface]\nPrivateKey = ${priv}\nAddress = 10.6.0.1/24\nListenPort = 51999\n\n[Peer]\nPublicKey = ${pub}\nAllowedIPs = 10.6.0.2/32\n`);
  put('/etc/pivpn/wireguard/setupVars.conf', 'VPN=wireguard\npivpnPORT=51820\npivpnPROTO=udp\n');

  it('finds OpenVPN (port, proto, tls-crypt key beside the config) and WireGuard (PiVPN port, derived public key)', () => {
    const found = readVpnOnMachine(root);
    expect(found).toEqual([
      { kind: 'openvpn', source: '/etc/openvpn/server/server.conf', port: 443, proto: 'tcp', control: { kind: 'tls-crypt', file: '/etc/openvpn/server/tc.key' } },
      { kind: 'wireguard', source: '/etc/wireguard/wg0.conf', port: 51820, proto: 'udp', wireguard: { iface: 'wg0', publicKey: pub } },
    ]);
    expect(JSON.stringify(found)).not.toContain(priv);
  });

  it('proposes a vpn: section that loads, with the server public key and netdoctor\'s key file, never a private key', () => {
    const wg = readVpnOnMachine(root)[1];
    const yaml = vpnYaml(wg, undefined, 'home.dyn.example.net', '/etc/netdoctor/netdoctor-wireguard.key').join('\n');
    expect(yaml).not.toContain(priv);
    const cfg = configFrom(`${yaml}\n`);
    expect(cfg.vpn).toMatchObject({ kind: 'wireguard', port: 51820, wireguard: { serverPublicKey: pub, privateKeyFile: '/etc/netdoctor/netdoctor-wireguard.key' } });
    const ovpn = configFrom(`${vpnYaml(readVpnOnMachine(root)[0], undefined, undefined, 'x').join('\n')}\n`);
    expect(ovpn.vpn).toMatchObject({ kind: 'openvpn', proto: 'tcp', port: 443, tlsCrypt: { file: '/etc/openvpn/server/tc.key' } });
  });

  it('makes netdoctor\'s probe key once, 0600, and returns the public key wg pubkey derives', () => {
    const file = join(root, 'netdoctor-wireguard.key');
    const first = ensureProbeKey(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(execFileSync('wg', ['pubkey'], { input: readFileSync(file), encoding: 'utf8' }).trim()).toBe(first);
    expect(ensureProbeKey(file)).toBe(first);
  });
});
