/**
 * The hosts probe's pure parts: the per-host verdict from one run's
 * sightings, the sweep's scope, and reading a MAC out of an IPv6 link-local
 * address.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { judgeHost, sightingsOf } from '../../src/probes/hosts.js';
import { MAX_PREFIX_FORCED, MAX_PREFIX_UNFORCED, SweepScopeError, expandIPv6, macFromEui64, sweepTargets, type AliveHost } from '../../src/probes/net/sweep.js';
import { inSubnet, intToIp, parseCidr, subnetOf } from '../../src/shared/ipv4.js';

const PI = { mac: 'b8:27:eb:00:00:10', ip: '192.168.1.10' };
const seen = (...alive: Array<[string, string]>) => sightingsOf(alive.map(([ip, mac]): AliveHost => ({ ip, mac, state: 'REACHABLE', via: 'arp' })));

describe('judgeHost: one run, keyed by MAC', () => {
  it('at-expected when its MAC is proven at its address', () => {
    expect(judgeHost(PI, seen(['192.168.1.10', PI.mac]))).toMatchObject({ reason: 'at-expected', actual: { ip: '192.168.1.10' }, alsoAt: [] });
  });

  it('moved when its MAC is proven only elsewhere, with where', () => {
    const v = judgeHost(PI, seen(['192.168.1.105', PI.mac]));
    expect(v).toMatchObject({ reason: 'moved', actual: { ip: '192.168.1.105', mac: PI.mac } });
  });

  it('moved to a link-local address, when that is where it was proven', () => {
    expect(judgeHost(PI, seen(['169.254.12.34', PI.mac]))).toMatchObject({ reason: 'moved', actual: { ip: '169.254.12.34' } });
  });

  it('prefers a subnet address over a link-local one, then the lowest, and lists the rest', () => {
    const v = judgeHost(PI, seen(['169.254.12.34', PI.mac], ['192.168.1.150', PI.mac], ['192.168.1.120', PI.mac]));
    expect(v.actual?.ip).toBe('192.168.1.120');
    expect(v.alsoAt).toEqual(['192.168.1.150', '169.254.12.34']);
  });

  it('conflict when another MAC is proven at its address, with where the host is if found', () => {
    expect(judgeHost(PI, seen(['192.168.1.10', '02:00:00:00:00:99']))).toEqual({ reason: 'conflict', conflictMac: '02:00:00:00:00:99', alsoAt: [] });
    expect(judgeHost(PI, seen(['192.168.1.10', '02:00:00:00:00:99'], ['192.168.1.105', PI.mac]))).toMatchObject({
      reason: 'conflict', conflictMac: '02:00:00:00:00:99', actual: { ip: '192.168.1.105' },
    });
  });

  it('missing when its MAC is proven nowhere, whatever else answers; never "moved to unknown"', () => {
    const v = judgeHost(PI, seen(['192.168.1.11', '02:00:00:00:00:11']));
    expect(v).toEqual({ reason: 'missing', alsoAt: [] });
    expect(v.actual).toBeUndefined();
  });

  it('flapping (seen, not seen, seen) gives at-expected, missing, at-expected: no string of moves', () => {
    const runs = [seen(['192.168.1.10', PI.mac]), seen(), seen(['192.168.1.10', PI.mac])];
    expect(runs.map((s) => judgeHost(PI, s).reason)).toEqual(['at-expected', 'missing', 'at-expected']);
  });

  it('every verdict follows from the sightings alone (property)', () => {
    const mac = fc.constantFrom(PI.mac, '02:00:00:00:00:01', '02:00:00:00:00:02');
    const ip = fc.integer({ min: 1, max: 30 }).map((n) => `192.168.1.${n}`);
    fc.assert(
      fc.property(fc.array(fc.tuple(ip, mac), { maxLength: 8 }), (pairs) => {
        // One MAC per address, as a neighbour table holds.
        const byIp = new Map(pairs);
        const v = judgeHost(PI, seen(...byIp.entries()));
        const atExpected = byIp.get(PI.ip);
        const mine = [...byIp].filter(([, m]) => m === PI.mac).map(([i]) => i);
        if (atExpected === PI.mac) return v.reason === 'at-expected';
        if (atExpected !== undefined) return v.reason === 'conflict' && v.conflictMac === atExpected && (mine.length === 0) === (v.actual === undefined);
        if (mine.length > 0) return v.reason === 'moved' && mine.includes(v.actual!.ip);
        return v.reason === 'missing' && v.actual === undefined;
      }),
    );
  });
});

describe('sweep scope', () => {
  it('sweeps a /24 as its 254 host addresses', () => {
    const t = sweepTargets(parseCidr('192.168.1.0/24'));
    expect(t).toHaveLength(254);
    expect([t[0], t[253]]).toEqual(['192.168.1.1', '192.168.1.254']);
  });

  it(`allows up to a /${MAX_PREFIX_UNFORCED}, refuses wider without force, and wider than /${MAX_PREFIX_FORCED} even with it`, () => {
    expect(sweepTargets(parseCidr('10.0.0.0/22'))).toHaveLength(1022);
    expect(() => sweepTargets(parseCidr('10.0.0.0/21'))).toThrow(/wider than \/22.*--force/);
    expect(sweepTargets(parseCidr('10.0.0.0/21'), { force: true })).toHaveLength(2046);
    expect(() => sweepTargets(parseCidr('10.0.0.0/16'), { force: true })).toThrow(/too wide/);
    try {
      sweepTargets(parseCidr('10.0.0.0/8'));
    } catch (err) {
      expect(err).toBeInstanceOf(SweepScopeError);
      expect((err as SweepScopeError).reason).toBe('too-wide');
    }
  });

  it('without a subnet says which key to set', () => {
    expect(() => sweepTargets(undefined)).toThrow(/set `subnet`/);
  });

  it('never yields an address outside the subnet (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: MAX_PREFIX_UNFORCED, max: 32 }), (n, prefix) => {
        const subnet = subnetOf(intToIp(n >>> 0), prefix);
        const targets = sweepTargets(subnet);
        return targets.length > 0 && targets.every((ip) => inSubnet(ip, subnet)) && targets.length <= 1022;
      }),
    );
  });
});

describe('IPv6 link-local addresses', () => {
  it('expands compressed forms', () => {
    expect(expandIPv6('fe80::ba27:ebff:fe00:11')).toBe('fe80:0000:0000:0000:ba27:ebff:fe00:0011');
    expect(expandIPv6('FE80::1%eth0')).toBe('fe80:0000:0000:0000:0000:0000:0000:0001');
    expect(expandIPv6('::')).toBe('0000:0000:0000:0000:0000:0000:0000:0000');
    expect(expandIPv6('1:2:3:4:5:6:7:8')).toBe('0001:0002:0003:0004:0005:0006:0007:0008');
    for (const bad of ['fe80::1::2', '192.168.1.1', 'fe80:::1', '1:2:3', '12345::1']) expect(expandIPv6(bad)).toBeUndefined();
  });

  it('reads the MAC out of an EUI-64 interface identifier, universal/local bit flipped back', () => {
    expect(macFromEui64('fe80::ba27:ebff:fe00:10')).toBe('b8:27:eb:00:00:10');
    expect(macFromEui64('fe80::fc:ff:fe00:1')).toBe('02:fc:00:00:00:01');
    // Stable-privacy identifiers carry no MAC.
    expect(macFromEui64('fe80::1c2b:3a4d:5e6f:7081')).toBeUndefined();
    // Recorded: this address was formed before the interface's MAC was changed to 02:b2:4e:37:f7:6d,
    // so the decode gives the old MAC; that is why linkScan asks the neighbour table first.
    expect(macFromEui64('fe80::e47d:d1ff:fe0c:3674')).toBe('e6:7d:d1:0c:36:74');
  });
});
