/**
 * The VPN probe's own judgement, without a network: configuration problems
 * are reported as one clear `error` observation (and nothing is sent), and
 * each handshake outcome maps to the status/reason of docs/observations.md.
 * The handshakes themselves are tested against real OpenVPN in the lab.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { HandshakeResult } from '../../src/probes/net/openvpn.js';
import { runProbes } from '../../src/probes/runner.js';
import { verdictOf, vpnProbe } from '../../src/probes/vpn.js';
import { configFrom } from '../support/config.js';

const dir = mkdtempSync(join(tmpdir(), 'nd-vpn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(yaml: string, vantage: 'inside' | 'outside' = 'inside') {
  const r = await runProbes({ config: configFrom(yaml), selection: { run: [vpnProbe], skipped: [] }, vantage, deadlineMs: 3000 });
  return r.observations;
}

const HOSTS = `hosts:\n  - { name: pi-vpn, mac: "b8:27:eb:00:00:20", ip: 127.0.0.1, roles: [vpn] }\n`;

describe('vpn probe: configuration it cannot work with', () => {
  it('a missing tls-auth key file: one error naming the key and the path', async () => {
    const obs = await run(`${HOSTS}vpn: { host: pi-vpn, tlsAuth: { file: ${dir}/nope.key } }\n`);
    expect(obs).toHaveLength(1);
    expect(obs[0]).toMatchObject({ check: 'probe', subject: 'vpn', status: 'error', reason: 'not-configured' });
    expect(obs[0].summary).toContain('vpn.tlsAuth.file');
    expect(obs[0].summary).toContain(`${dir}/nope.key`);
    expect(obs[0].summary).toContain('does not exist');
  });

  it('a file that is not a static key: says so without quoting it', async () => {
    const file = join(dir, 'not-a-key');
    writeFileSync(file, 'secret-ish content 0123456789abcdef\n');
    const obs = await run(`${HOSTS}vpn: { host: pi-vpn, tlsAuth: { file: ${file} } }\n`);
    expect(obs[0].reason).toBe('not-configured');
    expect(obs[0].summary).toMatch(/is not an OpenVPN static key/);
    expect(JSON.stringify(obs)).not.toContain('secret-ish');
  });

  it('no vpn.host: the first host with role vpn is the VPN host', async () => {
    const obs = await run(`${HOSTS}vpn: { port: 9 }\n`);
    expect(obs.map((o) => [o.labels.target, o.labels.host, o.subject, o.reason])).toEqual([['expected', 'pi-vpn', '127.0.0.1:9/udp', 'refused']]);
  });

  it('nothing to check inside, and no public name outside', async () => {
    expect((await run('site: t\n'))[0]).toMatchObject({ reason: 'not-configured', summary: expect.stringMatching(/name the VPN host/) });
    expect((await run('site: t\n', 'outside'))[0]).toMatchObject({ reason: 'not-configured', summary: expect.stringMatching(/vpn.publicName/) });
  });

  it('reads a real key file without complaint (a tls-auth handshake to a closed loopback port is refused, not an error)', async () => {
    const key = join(dir, 'ta.key');
    writeFileSync(key, readFileSync(new URL('../../fixtures/packets/openvpn/throwaway-ta.key', import.meta.url)));
    const obs = await run(`${HOSTS}vpn: { host: pi-vpn, port: 9, tlsAuth: { file: ${key}, direction: 1 } }\n`);
    expect(obs.map((o) => [o.labels.target, o.status, o.reason])).toEqual([['expected', 'fail', 'refused']]);
    expect(obs[0].data).toMatchObject({ signed: true, address: '127.0.0.1', port: 9 });
  });
});

describe('verdictOf', () => {
  const base: HandshakeResult = { outcome: 'answered', address: '192.168.1.20', port: 1194, proto: 'udp', signed: false, attempts: 1, elapsedMs: 3, rttMs: 2.5, ignored: 0 };
  const v = (r: Partial<HandshakeResult> & { presence?: { present?: boolean; evidence: string } }) => verdictOf({ ...base, ...r }, '192.168.1.20:1194/udp', 'pi-vpn');

  it('maps every outcome to the contract\'s status and reason', () => {
    expect(v({})).toMatchObject({ status: 'ok', reason: 'answered' });
    expect(v({ outcome: 'refused' })).toMatchObject({ status: 'fail', reason: 'refused' });
    expect(v({ outcome: 'host-unreachable' })).toMatchObject({ status: 'fail', reason: 'host-unreachable' });
    expect(v({ outcome: 'no-route', address: '169.254.3.4' })).toMatchObject({ status: 'error', reason: 'no-route', summary: expect.stringMatching(/link-local/) });
    expect(v({ outcome: 'error', detail: 'EPERM' })).toMatchObject({ status: 'error', reason: 'socket-error' });
  });

  it('silence is unknown — never down — unless nobody is at the address at all', () => {
    expect(v({ outcome: 'no-reply' })).toMatchObject({ status: 'error', reason: 'no-reply', summary: expect.stringMatching(/unknown, not down.*tls-auth/) });
    expect(v({ outcome: 'no-reply', presence: { present: true, evidence: 'answers ping' } }).summary).toMatch(/though the host answers ping/);
    expect(v({ outcome: 'no-reply', presence: { evidence: 'could not ping: no permission' } })).toMatchObject({ status: 'error', reason: 'no-reply' });
    expect(v({ outcome: 'no-reply', presence: { present: false, evidence: 'no reply to ping either' } })).toMatchObject({ status: 'fail', reason: 'host-unreachable' });
    expect(v({ outcome: 'no-reply', signed: true }).summary).toMatch(/key-direction or digest/);
  });
});
