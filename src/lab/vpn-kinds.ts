/**
 * The VPN servers Pi owners actually run, for the lab's pi-vpn (and for any
 * test that wants a real peer in a namespace of its own): OpenVPN with
 * `tls-crypt`, OpenVPN with `tls-crypt-v2`, and userspace WireGuard
 * (wireguard-go + wg; no kernel module needed, only /dev/net/tun).
 *
 * Keys are throwaway, made per lab by the real tools, and kept in the lab's
 * state dir (mode 0700); besides the server's keys it makes netdoctor's own
 * (its WireGuard probe key pair, a tls-crypt-v2 client key) and a wrong one of
 * each kind, so tests can ask "answered, but with another key?".
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROBE_PEER_ALLOWED_IPS } from '../shared/vpn.js';
import { waitFor } from '../shared/wait.js';
import { must, run } from './sys.js';

export const VPN_KINDS = {
  tlsCrypt: { port: 1196, subnet: '10.10.0.0' },
  tlsCryptV2: { port: 1197, subnet: '10.11.0.0' },
  wireguard: { port: 51820 },
} as const;


export const WIREGUARD_PACKAGES_HINT = 'WireGuard in the lab needs the Debian packages wireguard-go and wireguard-tools, and /dev/net/tun.';

export interface VpnKindKeys {
  dir: string;
  /** tls-crypt v1: shared by server and client; `tlsCryptOther` belongs to no server. */
  tlsCrypt: string;
  tlsCryptOther: string;
  /** tls-crypt-v2: the server key, netdoctor's client key, and a client key made for another server. */
  tlsCryptV2Server: string;
  tlsCryptV2Client: string;
  tlsCryptV2Other: string;
  /** WireGuard: files hold private keys; the public keys are printable. */
  wgServerKey: string;
  wgServerPublic: string;
  wgProbeKey: string;
  wgProbePublic: string;
  wgOtherKey: string;
  wgOtherPublic: string;
  wgPresharedKey: string;
}

async function wgKey(dir: string, name: string): Promise<{ file: string; publicKey: string }> {
  const priv = await must(['wg', 'genkey']);
  const file = join(dir, `${name}.key`);
  writeFileSync(file, priv, { mode: 0o600 });
  return { file, publicKey: (await must(['wg', 'pubkey'], { input: priv })).trim() };
}

/** Makes every key the VPN kinds need in `dir` (created 0700). */
export async function makeVpnKindKeys(dir: string): Promise<VpnKindKeys> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const p = (f: string) => join(dir, f);
  const ovpn = (...args: string[]) => must(['openvpn', ...args]);
  await Promise.all([ovpn('--genkey', 'tls-crypt', p('tc.key')), ovpn('--genkey', 'tls-crypt', p('tc-other.key')),
    ovpn('--genkey', 'tls-crypt-v2-server', p('tc2-server.key')), ovpn('--genkey', 'tls-crypt-v2-server', p('tc2-other-server.key'))]);
  await Promise.all([
    ovpn('--tls-crypt-v2', p('tc2-server.key'), '--genkey', 'tls-crypt-v2-client', p('tc2-client.key')),
    ovpn('--tls-crypt-v2', p('tc2-other-server.key'), '--genkey', 'tls-crypt-v2-client', p('tc2-other-client.key')),
  ]);
  const [server, probe, other] = await Promise.all([wgKey(dir, 'wg-server'), wgKey(dir, 'wg-netdoctor'), wgKey(dir, 'wg-other')]);
  writeFileSync(p('wg-psk.key'), await must(['wg', 'genpsk']), { mode: 0o600 });
  return {
    dir, tlsCrypt: p('tc.key'), tlsCryptOther: p('tc-other.key'),
    tlsCryptV2Server: p('tc2-server.key'), tlsCryptV2Client: p('tc2-client.key'), tlsCryptV2Other: p('tc2-other-client.key'),
    wgServerKey: server.file, wgServerPublic: server.publicKey, wgProbeKey: probe.file, wgProbePublic: probe.publicKey,
    wgOtherKey: other.file, wgOtherPublic: other.publicKey, wgPresharedKey: p('wg-psk.key'),
  };
}

/** The key files of a lab already made (same names as makeVpnKindKeys), public keys read back. */
export function vpnKindKeysIn(dir: string): VpnKindKeys {
  const p = (f: string) => join(dir, f);
  const pub = (name: string) => readFileSync(p(`${name}.pub`), 'utf8').trim();
  return {
    dir, tlsCrypt: p('tc.key'), tlsCryptOther: p('tc-other.key'),
    tlsCryptV2Server: p('tc2-server.key'), tlsCryptV2Client: p('tc2-client.key'), tlsCryptV2Other: p('tc2-other-client.key'),
    wgServerKey: p('wg-server.key'), wgServerPublic: pub('wg-server'), wgProbeKey: p('wg-netdoctor.key'), wgProbePublic: pub('wg-netdoctor'),
    wgOtherKey: p('wg-other.key'), wgOtherPublic: pub('wg-other'), wgPresharedKey: p('wg-psk.key'),
  };
}

/** Writes the public keys beside the private ones, so a lab reopened later knows them. */
export function savePublicKeys(keys: VpnKindKeys): void {
  writeFileSync(join(keys.dir, 'wg-server.pub'), `${keys.wgServerPublic}\n`);
  writeFileSync(join(keys.dir, 'wg-netdoctor.pub'), `${keys.wgProbePublic}\n`);
  writeFileSync(join(keys.dir, 'wg-other.pub'), `${keys.wgOtherPublic}\n`);
}

/** wireguard-go in the foreground (`-f`), so the lab owns its pid. */
export function wireguardArgv(ifname: string): string[] {
  return ['wireguard-go', '-f', ifname];
}

export interface WireguardServer {
  ifname: string;
  port: number;
  privateKeyFile: string;
  /** netdoctor's public key, as a peer the server knows; omitted: the server knows no peer. */
  probePublicKey?: string;
  presharedKeyFile?: string;
}

/**
 * Gives a started wireguard-go its key, port and netdoctor's peer, and brings
 * its interface up. `wg set` fails until the daemon accepts on its UAPI
 * socket, so it is retried until it succeeds (or the daemon died).
 */
export async function configureWireguard(ns: string, s: WireguardServer, alive: () => boolean): Promise<void> {
  const argv = ['ip', 'netns', 'exec', ns, 'wg', 'set', s.ifname, 'listen-port', String(s.port), 'private-key', s.privateKeyFile];
  if (s.probePublicKey) {
    argv.push('peer', s.probePublicKey, 'allowed-ips', PROBE_PEER_ALLOWED_IPS);
    if (s.presharedKeyFile) argv.push('preshared-key', s.presharedKeyFile);
  }
  let last = '';
  await waitFor(`wireguard-go ${s.ifname} to accept wg set`, async () => {
    if (!alive()) throw new Error(`wireguard-go ${s.ifname} exited while starting (${WIREGUARD_PACKAGES_HINT})`);
    const r = await run(argv);
    last = r.stderr.trim();
    return r.code === 0;
  }, { timeoutMs: 15_000, detail: () => last });
  await must(['ip', '-n', ns, 'link', 'set', s.ifname, 'up']);
}

/** Replaces netdoctor's peer on a running server (another key, a preshared key, or none). */
export async function setWireguardPeer(ns: string, ifname: string, from: string | undefined, to: { publicKey: string; presharedKeyFile?: string } | undefined): Promise<void> {
  const argv = ['ip', 'netns', 'exec', ns, 'wg', 'set', ifname];
  if (from) argv.push('peer', from, 'remove');
  if (to) argv.push('peer', to.publicKey, 'allowed-ips', PROBE_PEER_ALLOWED_IPS, 'preshared-key', to.presharedKeyFile ?? '/dev/null');
  await must(argv);
}
