/**
 * The cgnat rule: the pure judgement from the facts (router WAN address,
 * public address, hops past the gateway), and the rule on observations as the
 * router, ddns and wan probes make them.
 */
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/diagnose/index.js';
import { judgeCgnat } from '../../src/diagnose/rules/cgnat.js';
import type { Observation } from '../../src/probes/types.js';
import { configFrom } from '../support/config.js';

describe('judgeCgnat', () => {
  it('router WAN address in 100.64.0.0/10 is carrier-grade NAT', () => {
    expect(judgeCgnat({ routerWanIp: '100.64.0.10', routerWanSource: 'upnp', publicIp: '203.0.113.99' })).toMatchObject({ verdict: 'cgnat', data: { why: 'wan-ip-shared', routerWanSource: 'upnp' } });
  });

  it('a private WAN address with a different public address is a NAT in front of the router', () => {
    expect(judgeCgnat({ routerWanIp: '192.168.100.2', routerWanSource: 'nat-pmp', publicIp: '203.0.113.99' }).data.why).toBe('wan-ip-private');
  });

  it('the hop past the gateway in 100.64.0.0/10 (or private) is carrier-grade NAT, even with no WAN address', () => {
    expect(judgeCgnat({ publicIp: '203.0.113.99', hops: ['100.64.0.1'] }).data.why).toBe('second-hop-shared');
    expect(judgeCgnat({ hops: ['192.168.0.1'] }).data.why).toBe('second-hop-private');
    // One far destination is enough, whatever the others say.
    expect(judgeCgnat({ hops: ['203.0.113.1', '100.64.0.1'], nearTargets: ['100.64.0.1'] }).data.why).toBe('second-hop-shared');
  });

  it('the router\'s own public WAN address differing from the public address is a NAT past it; router.wanIp differing is hedged', () => {
    expect(judgeCgnat({ routerWanIp: '198.51.100.7', routerWanSource: 'upnp', publicIp: '203.0.113.99', hops: ['198.51.100.1'] })).toMatchObject({ verdict: 'cgnat', data: { why: 'public-differs' } });
    // router.wanIp may be out of date: without a hop to tell, that is unknown.
    expect(judgeCgnat({ routerWanIp: '203.0.113.10', publicIp: '203.0.113.99' })).toMatchObject({ verdict: 'unknown', data: { why: 'wan-ip-differs' } });
    expect(judgeCgnat({ routerWanIp: '203.0.113.10', publicIp: '203.0.113.11', hops: ['203.0.113.1'] })).toMatchObject({ verdict: 'public', data: { why: 'wan-ip-changed' } });
  });

  it('public when the WAN address is the public one, or a real router past the gateway is public', () => {
    expect(judgeCgnat({ routerWanIp: '203.0.113.10', publicIp: '203.0.113.10' }).data.why).toBe('wan-ip-matches');
    expect(judgeCgnat({ publicIp: '203.0.113.10', hops: ['203.0.113.1'] }).data.why).toBe('second-hop-public');
  });

  it('a target reached within two hops is no evidence: unknown, never public', () => {
    const v = judgeCgnat({ publicIp: '203.0.113.99', nearTargets: ['203.0.113.99'] });
    expect(v).toMatchObject({ verdict: 'unknown', data: { why: 'target-within-two-hops' } });
    expect(v.summary).toMatch(/says nothing about the address past the gateway/);
    expect(judgeCgnat({ publicIp: '203.0.113.10' })).toMatchObject({ verdict: 'unknown', data: { why: 'no-evidence' } });
  });
});

function obs(probe: Observation['probe'], check: string, subject: string, status: Observation['status'], reason: string, data: unknown): Observation {
  return { id: `${probe}:${check}:${subject}`, probe, check, subject, status, reason, summary: `${check} ${reason}`, labels: {}, values: {}, data, durationMs: 1, at: '2026-12-03T10:00:00.000Z' };
}

describe('the cgnat rule on observations', () => {
  const config = configFrom('router: { ip: 192.168.1.1, forwards: [{ proto: udp, port: 1194, to: 192.168.1.20 }] }\nddns: { hostname: home.dyn.example.net }\n');
  const pub = obs('ddns', 'public-ip', 'public', 'ok', 'found', { address: '203.0.113.99', source: 'http://203.0.113.1/', tried: [] });
  const near = obs('wan', 'hop', '2', 'ok', 'found', { ttl: 2, target: '203.0.113.99', address: '203.0.113.99', reachedTarget: true });

  it('says CGNAT from the router\'s own answer, naming the router\'s status page', () => {
    const wan = obs('router', 'wan-address', 'upnp', 'ok', 'reported', { address: '100.64.0.10', source: 'upnp' });
    const f = diagnose([pub, near, wan], config).findings.find((x) => x.id === 'cgnat');
    expect(f?.severity).toBe('critical');
    expect(f?.explanation).toMatch(/router itself \(over UPnP\) gives its WAN address as 100\.64\.0\.10/);
    expect(f?.evidence).toContain('router:wan-address:upnp');
    expect(f?.fixes[0].steps[0]).toMatch(/status page \(http:\/\/192\.168\.1\.1\/\)/);
  });

  it('says unknown, not public, when the only evidence is a target within two hops', () => {
    const d = diagnose([pub, near], config);
    expect(d.findings.find((x) => x.id === 'cgnat')).toBeUndefined();
    const u = d.findings.find((x) => x.id === 'cgnat-unknown');
    expect(u?.severity).toBe('unknown');
    expect(u?.explanation).toMatch(/203\.0\.113\.99 answers within two hops/);
  });
});
