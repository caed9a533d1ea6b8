/**
 * `netdoctor init`: the VPN server on this machine, read only — OpenVPN's
 * server configs (port, proto, tls-auth / tls-crypt / tls-crypt-v2 key),
 * WireGuard's /etc/wireguard/*.conf (ListenPort, the interface's public key
 * derived from its private key) and PiVPN's setupVars.conf — turned into the
 * proposed vpn: section. For WireGuard it also makes netdoctor's probe key pair
 * (written 0600 beside the config) and the [Peer] block to add on the server.
 * No key material is ever printed: only paths and public keys.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { generateKeyPair, parseKey, publicKeyOf } from '../probes/net/wireguard.js';

export interface FoundVpn {
  kind: 'openvpn' | 'wireguard';
  /** The file it was read from. */
  source: string;
  port: number;
  proto: 'udp' | 'tcp';
  /** OpenVPN: the control-channel key the server uses. */
  control?: { kind: 'tls-auth' | 'tls-crypt' | 'tls-crypt-v2'; file: string; direction?: 0 | 1 };
  /** WireGuard: the interface and its public key. */
  wireguard?: { iface: string; publicKey?: string };
}

const list = (root: string, dir: string, ext: string) => {
  try {
    return readdirSync(join(root, dir)).filter((f) => f.endsWith(ext)).sort().map((f) => join(dir, f));
  } catch {
    return [];
  }
};
const read = (root: string, file: string) => {
  try {
    return readFileSync(join(root, file), 'utf8');
  } catch {
    return undefined;
  }
};

/** One OpenVPN server config: port, proto and its control-channel key. */
export function readOpenvpnConf(text: string, source: string): FoundVpn {
  const found: FoundVpn = { kind: 'openvpn', source, port: 1194, proto: 'udp' };
  for (const raw of text.split('\n')) {
    const [key, a, b] = raw.replace(/[#;].*$/, '').trim().split(/\s+/);
    if (key === 'port' && /^\d+$/.test(a ?? '')) found.port = Number(a);
    else if (key === 'proto' && a) found.proto = a.startsWith('tcp') ? 'tcp' : 'udp';
    else if ((key === 'tls-auth' || key === 'tls-crypt' || key === 'tls-crypt-v2') && a) {
      // The server's key-direction is 0 by convention: netdoctor, a client, takes the other one.
      const direction = key === 'tls-auth' && (b === '0' || b === '1') ? ((1 - Number(b)) as 0 | 1) : undefined;
      found.control = { kind: key, file: a.startsWith('/') ? a : join(dirname(source), a), ...(direction !== undefined ? { direction } : {}) };
    }
  }
  return found;
}

/** One wg-quick config: ListenPort and the interface's public key (its private key is read, never kept). */
export function readWireguardConf(text: string, source: string): FoundVpn {
  let port = 51820;
  let publicKey: string | undefined;
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (/^\[.*\]$/.test(line)) section = line.toLowerCase();
    const m = /^(\w+)\s*=\s*(.+)$/.exec(line);
    if (!m || section !== '[interface]') continue;
    if (m[1] === 'ListenPort' && /^\d+$/.test(m[2])) port = Number(m[2]);
    if (m[1] === 'PrivateKey') {
      try {
        publicKey = publicKeyOf(parseKey(m[2], 'PrivateKey')).toString('base64');
      } catch {
        // Not a key: leave the public key to the user (wg show).
      }
    }
  }
  const iface = source.replace(/^.*\//, '').replace(/\.conf$/, '');
  return { kind: 'wireguard', source, port, proto: 'udp', wireguard: { iface, publicKey } };
}

/** Every VPN server configured on this machine (under `root`, for tests), OpenVPN first. */
export function readVpnOnMachine(root = '/'): FoundVpn[] {
  const out: FoundVpn[] = [];
  for (const f of ['/etc/openvpn/server.conf', ...list(root, '/etc/openvpn/server', '.conf')]) {
    const text = read(root, f);
    if (text !== undefined) out.push(readOpenvpnConf(text, f));
  }
  for (const f of list(root, '/etc/wireguard', '.conf')) {
    const text = read(root, f);
    if (text !== undefined) out.push(readWireguardConf(text, f));
  }
  // PiVPN: setupVars.conf names the protocol and port it set up, which wins for that kind.
  for (const f of ['/etc/pivpn/openvpn/setupVars.conf', '/etc/pivpn/wireguard/setupVars.conf']) {
    const vars = Object.fromEntries((read(root, f) ?? '').split('\n').map((l) => /^(\w+)=(.*)$/.exec(l.trim())).filter((m) => m !== null).map((m) => [m[1], m[2].replace(/^["']|["']$/g, '')]));
    const kind = vars.VPN === 'wireguard' ? 'wireguard' : vars.VPN === 'openvpn' ? 'openvpn' : undefined;
    const same = kind && out.find((v) => v.kind === kind);
    if (same && /^\d+$/.test(vars.pivpnPORT ?? '')) same.port = Number(vars.pivpnPORT);
    if (same && (vars.pivpnPROTO === 'tcp' || vars.pivpnPROTO === 'udp')) same.proto = vars.pivpnPROTO;
  }
  return out;
}

/** The proposed vpn: section (YAML lines) for the first VPN found. */
export function vpnYaml(v: FoundVpn, host: string | undefined, publicName: string | undefined, probeKeyFile: string): string[] {
  const L = [`# Read from ${v.source} on this machine.`, 'vpn:'];
  if (host) L.push(`  host: ${host}`);
  L.push(`  kind: ${v.kind}`, `  proto: ${v.proto}`, `  port: ${v.port}`);
  if (publicName) L.push(`  publicName: ${publicName}`);
  const c = v.control;
  if (c?.kind === 'tls-auth') L.push(`  tlsAuth: { file: ${c.file}${c.direction !== undefined ? `, direction: ${c.direction}` : ''} }`);
  if (c?.kind === 'tls-crypt') L.push(`  tlsCrypt: { file: ${c.file} }`);
  if (c?.kind === 'tls-crypt-v2') {
    L.push(`  # tls-crypt-v2 needs a client key made for netdoctor from the server key: sudo openvpn --tls-crypt-v2 ${c.file} --genkey tls-crypt-v2-client /etc/netdoctor/netdoctor-tc2.key`);
    L.push('  tlsCryptV2: { file: /etc/netdoctor/netdoctor-tc2.key }');
  }
  if (v.kind === 'wireguard' && v.wireguard?.publicKey) {
    L.push('  wireguard:', `    privateKeyFile: ${probeKeyFile}`, `    serverPublicKey: "${v.wireguard.publicKey}"`);
  }
  return L;
}

/** netdoctor's WireGuard probe key pair: the private key written 0600 to `file` (kept if present), the public key returned. */
export function ensureProbeKey(file: string): string {
  if (existsSync(file)) return publicKeyOf(parseKey(readFileSync(file, 'utf8'), file)).toString('base64');
  const { privateKey, publicKey } = generateKeyPair();
  writeFileSync(file, `${privateKey.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  return publicKey.toString('base64');
}
