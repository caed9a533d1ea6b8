/** init's report of the router's answer, and the router.wanIp line it proposes from it. */
import { describe, expect, it } from 'vitest';
import { describeRouterAnswer, routerAnswerOf, wanIpLine } from '../../src/commands/init-router.js';
import type { Observation } from '../../src/probes/types.js';

const o = (check: string, subject: string, status: Observation['status'], reason: string, data?: unknown): Observation =>
  ({ id: `router:${check}:${subject}`, probe: 'router', check, subject, status, reason, summary: reason, labels: {}, values: {}, data, durationMs: 1, at: '2026-12-03T10:00:00.000Z' });

describe('init and the router', () => {
  it('a router that names a public WAN address: UPnP yes, and wanIp proposed live', () => {
    const r = routerAnswerOf([o('upnp', 'router', 'ok', 'found'), o('wan-address', 'upnp', 'ok', 'reported', { address: '198.51.100.7', source: 'upnp' }), o('nat-pmp', 'router', 'ok', 'nat-pmp')])!;
    expect(describeRouterAnswer(r)).toBe('router     UPnP yes, NAT-PMP/PCP yes (NAT-PMP), WAN address 198.51.100.7');
    expect(wanIpLine(r)).toMatch(/^ {2}wanIp: 198\.51\.100\.7 /);
  });

  it('a CGNAT address or a withheld one is not proposed as router.wanIp', () => {
    const cg = routerAnswerOf([o('upnp', 'router', 'ok', 'found'), o('wan-address', 'upnp', 'ok', 'reported', { address: '100.64.0.10', source: 'upnp' })])!;
    expect(wanIpLine(cg)).toMatch(/^ {2}# wanIp: .*100\.64\.0\.10: not public/);
    const withheld = routerAnswerOf([o('upnp', 'router', 'ok', 'found'), o('wan-address', 'upnp', 'ok', 'withheld', { source: 'upnp' })])!;
    expect(describeRouterAnswer(withheld)).toMatch(/UPnP yes, NAT-PMP\/PCP no, WAN address withheld/);
    expect(wanIpLine(withheld)).toMatch(/^ {2}# wanIp:/);
  });

  it('UPnP off: says no; without the probe, nothing', () => {
    expect(describeRouterAnswer(routerAnswerOf([o('upnp', 'router', 'skipped', 'not-offered'), o('nat-pmp', 'router', 'skipped', 'not-offered')])!)).toBe('router     UPnP no, NAT-PMP/PCP no');
    expect(routerAnswerOf([])).toBeUndefined();
  });
});
