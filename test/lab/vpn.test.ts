/**
 * The VPN probe against the lab's real OpenVPN servers on pi-vpn (UDP 1194,
 * and a tls-auth instance), from inside (client) and outside (vps), healthy
 * and under the faults that break the seed's path in: vpn-down,
 * reservations-lost (the forward points at the old address), ddns-stale and
 * cgnat (the name or the NAT leads nowhere).
 *
 * Needs dist/ built (`npx tsc -p tsconfig.build.json`).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import type { Observation } from '../../src/probes/types.js';
import type { HandshakeData, ResolveData } from '../../src/probes/vpn.js';
import { describeLab, type TestLab } from '../support/lab.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

type Handshake = Observation<HandshakeData>;
const handshakes = (obs: Observation[]) => obs.filter((o) => o.probe === 'vpn' && o.check === 'handshake') as Handshake[];
const byTarget = (obs: Observation[], target: string) => handshakes(obs).filter((o) => o.labels.target === target);
const one = (obs: Observation[], target: string) => {
  const found = byTarget(obs, target);
  expect(found, `one ${target} handshake in ${JSON.stringify(obs.map((o) => o.summary))}`).toHaveLength(1);
  return found[0];
};

/** The lab's config as a VPS would have it: its own resolver is the public one, not pi-dns. */
const outsideYaml = (lab: TestLab) => lab.configYaml().replace(/^dns:\n {2}servers: \[[^\]]*\]/m, 'dns:\n  servers: [203.0.113.53]');

/** Several probes in one run (so the VPN probe can follow the hosts probe), from the built dist/, inside a node. */
const RUN_SCRIPT = `
const [root, configPath, vantage, ...names] = process.argv.slice(1);
const { loadConfig } = await import(root + 'dist/config/load.js');
const { runProbes } = await import(root + 'dist/probes/runner.js');
const run = [];
for (const n of names) run.push((await import(root + 'dist/probes/' + n + '.js'))[n + 'Probe']);
const config = loadConfig({ configPath });
const r = await runProbes({ config, selection: { run, skipped: [] }, vantage, deadlineMs: config.deadlineMs });
process.stdout.write(JSON.stringify(r.observations));
`;

async function runTogether(lab: TestLab, node: 'client' | 'vps', probes: string[], yaml = lab.configYaml()): Promise<Observation[]> {
  const configPath = lab.writeConfig(yaml);
  const r = await lab.exec(node, [process.execPath, '--input-type=module', '-e', RUN_SCRIPT, REPO, configPath, 'inside', ...probes], { timeoutMs: 40_000 });
  if (r.code !== 0) throw new Error(`probes ${probes.join(', ')} failed in ${node}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Observation[];
}

describeLab('vpn probe', (lab) => {
  afterEach(async () => {
    await lab().heal();
  });

  it('healthy inside: OpenVPN answers at pi-vpn\'s address and at the port-forward target, echoing our session', async () => {
    const obs = await lab().runProbe('client', 'vpn');
    const expected = one(obs, 'expected');
    const forward = one(obs, 'forward');
    for (const o of [expected, forward]) {
      expect(o.subject).toBe('192.168.1.20:1194/udp');
      expect([o.status, o.reason]).toEqual(['ok', 'answered']);
      expect(o.labels).toMatchObject({ host: 'pi-vpn', address: '192.168.1.20', port: '1194', proto: 'udp' });
      expect(o.values.ok).toBe(1);
      expect(o.values.rtt_ms).toBeGreaterThanOrEqual(0);
      expect(o.data!.serverSessionId).toMatch(/^[0-9a-f]{16}$/);
      expect(o.data!.signed).toBe(false);
    }
    // One handshake served both roles: the same server session answered.
    expect(forward.data!.serverSessionId).toBe(expected.data!.serverSessionId);
    expect(forward.data!.targets).toEqual(['expected', 'forward']);
    expect(obs.filter((o) => o.status !== 'ok')).toEqual([]);
  });

  it('healthy outside (vps): the public name resolves and the handshake through the router\'s forward succeeds', async () => {
    const obs = await lab().runProbe('vps', 'vpn', { vantage: 'outside', configYaml: outsideYaml(lab()) });
    const resolve = obs.find((o) => o.check === 'resolve') as Observation<ResolveData>;
    expect([resolve.subject, resolve.status, resolve.reason]).toEqual(['home.dyn.example.net', 'ok', 'resolved']);
    expect(resolve.data!.addresses).toEqual(['203.0.113.10']);
    const pub = one(obs, 'public');
    expect([pub.subject, pub.status, pub.reason]).toEqual(['203.0.113.10:1194/udp', 'ok', 'answered']);
    expect(byTarget(obs, 'expected')).toEqual([]); // from outside, the LAN addresses mean nothing
  });

  it('vpn-down: pi-vpn is up, but the handshake is refused at its address and at the forward target', async () => {
    await lab().fault('vpn-down');
    expect(await lab().addresses('pi-vpn')).toEqual(['192.168.1.20']);
    const obs = await lab().runProbe('client', 'vpn');
    for (const target of ['expected', 'forward']) {
      const o = one(obs, target);
      expect([o.status, o.reason]).toEqual(['fail', 'refused']);
      expect(o.data!.errorCode).toBe('ECONNREFUSED');
      expect(o.summary).toMatch(/nothing listens on 192\.168\.1\.20:1194\/udp/);
    }
  });

  it('tls-auth: unsigned → unknown (error/no-reply, never down); signed with the key → answered; wrong key direction → still unknown', async () => {
    const { keyFile, direction, digest, port } = lab().tlsAuth;
    const base = lab().configYaml().replace(/forwards: \[.*\]/, 'forwards: []');
    const vpnLine = (extra: string) => base.replace(/^vpn: .*$/m, `vpn: { host: pi-vpn, proto: udp, port: ${port}${extra} }`);

    const unsigned = one(await lab().runProbe('client', 'vpn', { configYaml: vpnLine('') }), 'expected');
    expect([unsigned.status, unsigned.reason]).toEqual(['error', 'no-reply']);
    expect(unsigned.summary).toMatch(/unknown, not down/);
    expect(unsigned.summary).toMatch(/tls-auth/);
    expect(unsigned.data!.presence).toEqual({ present: true, evidence: 'answers ping' });

    const key = `, tlsAuth: { file: ${keyFile}, direction: ${direction}, digest: ${digest} }`;
    const signed = one(await lab().runProbe('client', 'vpn', { configYaml: vpnLine(key) }), 'expected');
    expect([signed.status, signed.reason]).toEqual(['ok', 'answered']);
    expect(signed.data!.signed).toBe(true);
    expect(signed.summary).toMatch(/tls-auth signed/);

    const wrong = `, tlsAuth: { file: ${keyFile}, direction: ${1 - direction}, digest: ${digest} }`;
    const misSigned = one(await lab().runProbe('client', 'vpn', { configYaml: vpnLine(wrong) }), 'expected');
    expect([misSigned.status, misSigned.reason]).toEqual(['error', 'no-reply']);
    expect(misSigned.summary).toMatch(/key-direction/);
  });

  it('ddns-stale: from outside, the name still resolves to the old address and the handshake to it fails', async () => {
    await lab().fault('ddns-stale');
    const obs = await lab().runProbe('vps', 'vpn', { vantage: 'outside', configYaml: outsideYaml(lab()) });
    expect((obs.find((o) => o.check === 'resolve') as Observation<ResolveData>).data!.addresses).toEqual(['203.0.113.10']);
    const pub = one(obs, 'public');
    expect(pub.status).toBe('fail');
    expect(pub.reason).toBe('host-unreachable');
    expect(pub.values.ok).toBe(0);
    // Inside, the server itself is fine: the break is the name, not the VPN.
    expect(one(await lab().runProbe('client', 'vpn'), 'expected').status).toBe('ok');
  });

  it('cgnat: from outside, the published address leads nowhere', async () => {
    await lab().fault('cgnat');
    const pub = one(await lab().runProbe('vps', 'vpn', { vantage: 'outside', configYaml: outsideYaml(lab()) }), 'public');
    expect(pub.status).not.toBe('ok');
    expect(pub.values.ok).toBe(0);
  });

  it('over TCP (2-byte length framing): a real OpenVPN tcp-server answers; once stopped, the connection is refused', async () => {
    const pki = `${lab().stateDir}/pki`;
    const pidFile = `${lab().stateDir}/vpn-test-tcp.pid`;
    const started = await lab().exec('pi-vpn', [
      'openvpn', '--mode', 'server', '--tls-server', '--proto', 'tcp-server', '--port', '1196', '--dev', 'tun', '--topology', 'subnet',
      '--server', '10.11.0.0', '255.255.255.0', '--ca', `${pki}/ca.crt`, '--cert', `${pki}/server.crt`, '--key', `${pki}/server.key`,
      '--dh', 'none', '--disable-dco', '--daemon', '--writepid', pidFile, '--verb', '1',
    ]);
    expect(started.code, started.stderr).toBe(0);
    const yaml = lab().configYaml().replace(/forwards: \[.*\]/, 'forwards: []').replace(/^vpn: .*$/m, 'vpn: { host: pi-vpn, proto: tcp, port: 1196 }');
    try {
      let tcp: Handshake | undefined;
      // The daemon needs a moment to listen; a refused first try is retried, not believed.
      for (let i = 0; i < 20 && tcp?.reason !== 'answered'; i++) {
        tcp = one(await lab().runProbe('client', 'vpn', { configYaml: yaml }), 'expected');
        if (tcp.reason !== 'answered') await new Promise((r) => setTimeout(r, 250));
      }
      expect(tcp!.subject).toBe('192.168.1.20:1196/tcp');
      expect([tcp!.status, tcp!.reason]).toEqual(['ok', 'answered']);
      expect(tcp!.labels.proto).toBe('tcp');
    } finally {
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      if (pid > 0) process.kill(pid, 'SIGTERM');
    }
    await new Promise((r) => setTimeout(r, 500));
    const stopped = one(await lab().runProbe('client', 'vpn', { configYaml: yaml }), 'expected');
    expect([stopped.status, stopped.reason]).toEqual(['fail', 'refused']);
  });

  it('reservations-lost: the forward target is silent (nobody there) while pi-vpn answers at its new address — both observed', async () => {
    await lab().fault('reservations-lost');
    const [moved] = await lab().addresses('pi-vpn');
    expect(moved).toBeDefined();
    expect(moved).not.toBe('192.168.1.20');
    // With the hosts probe in the same run, as `netdoctor check` runs them.
    const obs = await runTogether(lab(), 'client', ['hosts', 'vpn']);
    const host = obs.find((o) => o.probe === 'hosts' && o.check === 'host' && o.subject === 'pi-vpn');
    expect(host?.reason).toBe('moved');

    const forward = one(obs, 'forward');
    expect(forward.subject).toBe('192.168.1.20:1194/udp');
    expect([forward.status, forward.reason]).toEqual(['fail', 'host-unreachable']);
    expect(forward.data!.presence?.present).toBe(false);

    const found = one(obs, 'found');
    expect(found.subject).toBe(`${moved}:1194/udp`);
    expect([found.status, found.reason]).toEqual(['ok', 'answered']);
    expect(found.data!.expectedAddress).toBe('192.168.1.20');
    expect(found.summary).toContain('moved from 192.168.1.20');
  });
});
