/**
 * The tls-crypt, tls-crypt-v2 and WireGuard handshakes against the real
 * servers (OpenVPN 2.6, wireguard-go + wg), in a network namespace this test
 * makes and removes: healthy, service stopped, wrong key, no key configured.
 * The client runs inside the namespace too (test/support/vpn-handshake.mjs,
 * from the built dist/), so all traffic stays on that namespace's loopback.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePki, openvpnArgv, openvpnConf } from '../../src/lab/servers.js';
import { isAlive, must, run, startDaemon, stopProcesses, which, type ProcessRecord } from '../../src/lab/sys.js';
import { configureWireguard, makeVpnKindKeys, setWireguardPeer, VPN_KINDS, wireguardArgv, type VpnKindKeys } from '../../src/lab/vpn-kinds.js';
import { waitFor } from '../../src/shared/wait.js';

const HANDSHAKE = new URL('../support/vpn-handshake.mjs', import.meta.url).pathname;
const DIST = new URL('../../dist/probes/net/wireguard.js', import.meta.url).pathname;

function unavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  const missing = [['openvpn', 'openvpn'], ['wireguard-go', 'wireguard-go'], ['wg', 'wireguard-tools'], ['ip', 'iproute2'], ['ss', 'iproute2']].filter(([c]) => !which(c));
  if (missing.length) return `needs ${missing.map(([c]) => c).join(', ')} (apt-get install ${[...new Set(missing.map(([, p]) => p))].join(' ')})`;
  if (!existsSync('/dev/net/tun')) return 'needs /dev/net/tun';
  if (!existsSync(DIST)) return 'dist/ is not built (npm run build)';
  return undefined;
}
const SKIP = unavailable();
if (SKIP && process.env.NETDOCTOR_LAB === 'required') throw new Error(`VPN peer tests are required (NETDOCTOR_LAB=required) but cannot run: ${SKIP}`);
if (SKIP) console.warn(`VPN peer tests skipped: ${SKIP}`);

const tag = `ndvk${process.pid % 1_000_000}`;
const ns = tag;
const ifname = tag;
const dir = mkdtempSync(join(tmpdir(), 'nd-vpn-kinds-'));
let keys: VpnKindKeys;
const procs: Record<string, ProcessRecord> = {};

interface Result {
  outcome: string;
  attempts: number;
  rttMs?: number;
  serverSessionId?: string;
  serverIndex?: number;
  detail?: string;
}

async function handshake(req: Record<string, unknown>): Promise<Result> {
  const r = await run(['ip', 'netns', 'exec', ns, process.execPath, HANDSHAKE], { input: JSON.stringify({ address: '127.0.0.1', timeoutMs: 2500, ...req }), timeoutMs: 20_000 });
  if (r.code !== 0) throw new Error(`vpn-handshake failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Result;
}

async function listening(port: number): Promise<boolean> {
  const r = await run(['ip', 'netns', 'exec', ns, 'ss', '-Hlnu', 'sport', '=', `:${port}`]);
  return r.stdout.trim().length > 0;
}

async function startOpenvpn(name: 'tlsCrypt' | 'tlsCryptV2'): Promise<void> {
  const { port, subnet } = VPN_KINDS[name];
  const conf = join(dir, `${name}.conf`);
  const pki = { dir, ca: join(dir, 'ca.crt'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key'), tlsAuthKey: join(dir, 'ta.key') };
  writeFileSync(conf, openvpnConf(pki, { port, subnet, tlsAuth: false, ...(name === 'tlsCrypt' ? { tlsCrypt: keys.tlsCrypt } : { tlsCryptV2: keys.tlsCryptV2Server }) }));
  const rec = startDaemon(ns, openvpnArgv(conf), name, join(dir, `${name}.log`));
  procs[name] = rec;
  await waitFor(`openvpn ${name} to listen`, async () => {
    if (!isAlive(rec)) throw new Error(`openvpn ${name} exited`);
    return listening(port);
  }, { timeoutMs: 15_000 });
}

async function startWireguard(probePeer: boolean): Promise<void> {
  const rec = startDaemon(ns, wireguardArgv(ifname), 'wireguard', join(dir, 'wireguard.log'));
  procs.wireguard = rec;
  await configureWireguard(ns, { ifname, port: VPN_KINDS.wireguard.port, privateKeyFile: keys.wgServerKey, probePublicKey: probePeer ? keys.wgProbePublic : undefined }, () => isAlive(rec));
  await waitFor('wireguard-go to listen', () => listening(VPN_KINDS.wireguard.port), { timeoutMs: 10_000 });
}

async function stop(name: string): Promise<void> {
  if (procs[name]) await stopProcesses([procs[name]]);
  delete procs[name];
}

const suite = SKIP ? describe.skip : describe;
suite('VPN kinds against real servers', () => {
  beforeAll(async () => {
    await must(['ip', 'netns', 'add', ns]);
    await must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    keys = await makeVpnKindKeys(join(dir, 'keys'));
    await makePki(dir);
    await Promise.all([startOpenvpn('tlsCrypt'), startOpenvpn('tlsCryptV2'), startWireguard(true)]);
  });
  afterAll(async () => {
    await stopProcesses(Object.values(procs));
    await run(['ip', 'netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  });

  const wg = () => ({ kind: 'wireguard', port: VPN_KINDS.wireguard.port, serverPublicKey: keys.wgServerPublic });

  describe('healthy', () => {
    it('tls-crypt: the server\'s wrapped reset unwraps with the key and acknowledges ours', async () => {
      const r = await handshake({ kind: 'openvpn', port: VPN_KINDS.tlsCrypt.port, tlsCryptFile: keys.tlsCrypt });
      expect(r).toMatchObject({ outcome: 'answered', attempts: 1, serverSessionId: expect.stringMatching(/^[0-9a-f]{16}$/) });
    });
    it('tls-crypt-v2: the server takes WKc, and its reply verifies with the client key', async () => {
      const r = await handshake({ kind: 'openvpn', port: VPN_KINDS.tlsCryptV2.port, tlsCryptV2File: keys.tlsCryptV2Client });
      expect(r).toMatchObject({ outcome: 'answered', attempts: 1 });
    });
    it('WireGuard: wireguard-go answers netdoctor\'s initiation with a response that verifies', async () => {
      const r = await handshake({ ...wg(), privateKeyFile: keys.wgProbeKey });
      expect(r).toMatchObject({ outcome: 'answered', serverIndex: expect.any(Number) });
    });
  });

  describe('wrong key', () => {
    it('tls-crypt and tls-crypt-v2: OpenVPN drops a packet it cannot unwrap, so another key meets silence, never an answer', async () => {
      const [v1, v2] = await Promise.all([
        handshake({ kind: 'openvpn', port: VPN_KINDS.tlsCrypt.port, tlsCryptFile: keys.tlsCryptOther }),
        handshake({ kind: 'openvpn', port: VPN_KINDS.tlsCryptV2.port, tlsCryptV2File: keys.tlsCryptV2Other }),
      ]);
      expect(v1.outcome).toBe('no-reply');
      expect(v2.outcome).toBe('no-reply');
    });
    it('WireGuard: the server answers, but the response fails with another preshared key (wrong-key)', async () => {
      await setWireguardPeer(ns, ifname, keys.wgProbePublic, { publicKey: keys.wgProbePublic, presharedKeyFile: keys.wgPresharedKey });
      try {
        expect(await handshake({ ...wg(), privateKeyFile: keys.wgProbeKey })).toMatchObject({ outcome: 'wrong-key' });
        expect(await handshake({ ...wg(), privateKeyFile: keys.wgProbeKey, presharedKeyFile: keys.wgPresharedKey })).toMatchObject({ outcome: 'answered' });
      } finally {
        await setWireguardPeer(ns, ifname, keys.wgProbePublic, { publicKey: keys.wgProbePublic });
      }
    });
    it('WireGuard: a key the server does not know is met with silence', async () => {
      expect(await handshake({ ...wg(), privateKeyFile: keys.wgOtherKey })).toMatchObject({ outcome: 'no-reply' });
    });
  });

  describe('no key configured', () => {
    it('WireGuard: a peer nobody knows gets silence (unknown), not a refusal', async () => {
      expect(await handshake(wg())).toMatchObject({ outcome: 'no-reply' });
    });
  });

  describe('service stopped', () => {
    it('each kind: ICMP port unreachable, so refused (down), with or without a key', async () => {
      await Promise.all([stop('tlsCrypt'), stop('tlsCryptV2'), stop('wireguard')]);
      await waitFor('the ports to close', async () => !(await listening(VPN_KINDS.wireguard.port)) && !(await listening(VPN_KINDS.tlsCrypt.port)), { timeoutMs: 10_000 });
      const rs = await Promise.all([
        handshake({ kind: 'openvpn', port: VPN_KINDS.tlsCrypt.port, tlsCryptFile: keys.tlsCrypt }),
        handshake({ kind: 'openvpn', port: VPN_KINDS.tlsCryptV2.port, tlsCryptV2File: keys.tlsCryptV2Client }),
        handshake({ ...wg(), privateKeyFile: keys.wgProbeKey }),
        handshake(wg()),
      ]);
      expect(rs.map((r) => r.outcome)).toEqual(['refused', 'refused', 'refused', 'refused']);
    });
  });
});
