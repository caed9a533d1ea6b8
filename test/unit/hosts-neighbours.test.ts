/**
 * The neighbour table and what counts as proof of presence, replayed on
 * tables recorded with `ip -j -s -4 neigh` around real sweeps in network
 * namespaces (fixtures/packets/neigh/*.json, each with a note of what
 * happened on the wire).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { confirmedBetween, freshBetween, parseNeighJson, type NeighbourEntry, type NeighbourSnapshot } from '../../src/probes/net/neighbours.js';
import { provenAlive, sweepTargets } from '../../src/probes/net/sweep.js';
import { parseCidr } from '../../src/shared/ipv4.js';

interface Recording {
  note: string;
  iface: string;
  before: { at: number; raw: string };
  after: { at: number; raw: string };
  echoes: Array<{ target: string; sent: number; received: number }>;
}

function load(name: string): { before: NeighbourSnapshot; after: NeighbourSnapshot; echoes: Recording['echoes'] } {
  const rec = JSON.parse(readFileSync(new URL(`../../fixtures/packets/neigh/${name}.json`, import.meta.url), 'utf8')) as Recording;
  return {
    before: { iface: rec.iface, at: rec.before.at, entries: parseNeighJson(rec.before.raw) },
    after: { iface: rec.iface, at: rec.after.at, entries: parseNeighJson(rec.after.raw) },
    echoes: rec.echoes,
  };
}

const LAN = new Set(sweepTargets(parseCidr('192.168.1.0/24')).filter((ip) => ip !== '192.168.1.11'));
const ips = (entries: Array<{ ip: string }>) => entries.map((e) => e.ip).sort();

describe('parseNeighJson', () => {
  it('reads states, MACs and ages of a recorded table', () => {
    const { after } = load('first-sweep');
    const resolved = after.entries.filter((e) => e.mac);
    expect(resolved).toEqual([
      { ip: '192.168.1.12', mac: 'b8:27:eb:00:00:12', state: 'REACHABLE', confirmedS: 0, usedS: 0, updatedS: 0 },
      { ip: '192.168.1.13', mac: 'b8:27:eb:00:00:13', state: 'REACHABLE', confirmedS: 0, usedS: 0, updatedS: 0 },
    ]);
    expect(after.entries.filter((e) => e.state === 'INCOMPLETE')).toHaveLength(251);
    expect(after.entries.every((e) => e.state !== 'INCOMPLETE' || e.mac === undefined)).toBe(true);
  });

  it('reads an empty table and one without -s', () => {
    expect(parseNeighJson(readFileSync(new URL('../../fixtures/packets/neigh/empty.json', import.meta.url), 'utf8'))).toEqual([]);
    expect(parseNeighJson('')).toEqual([]);
    expect(parseNeighJson('[{"dst":"192.168.1.11","lladdr":"B8:27:EB:00:00:11","state":["STALE"]}]')).toEqual([
      { ip: '192.168.1.11', mac: 'b8:27:eb:00:00:11', state: 'STALE' },
    ]);
  });

  it('takes the NUD state among flags, skips entries it cannot read, and refuses non-arrays', () => {
    const entries = parseNeighJson('[{"dst":"10.0.0.1","lladdr":"00:11:22:33:44:55","router":null,"state":["STALE"]},{"lladdr":"x"},7,{"dst":"10.0.0.2","state":["PERMANENT","NOARP"]}]');
    expect(entries).toEqual([
      { ip: '10.0.0.1', mac: '00:11:22:33:44:55', state: 'STALE', router: true },
      { ip: '10.0.0.2', state: 'PERMANENT' },
    ]);
    expect(() => parseNeighJson('{"dst":"x"}')).toThrow(/JSON array/);
  });
});

describe('freshness: only proof from within the sweep counts', () => {
  it('first sweep from an empty table: both hosts confirmed by ARP', () => {
    const { before, after, echoes } = load('first-sweep');
    expect(ips(confirmedBetween(before, after))).toEqual(['192.168.1.12', '192.168.1.13']);
    expect(provenAlive(before, after, echoes, LAN).map((a) => [a.ip, a.mac, a.via])).toEqual([
      ['192.168.1.12', 'b8:27:eb:00:00:12', 'arp'],
      ['192.168.1.13', 'b8:27:eb:00:00:13', 'arp'],
    ]);
  });

  it('entries still REACHABLE from a sweep 2 s earlier are not proof; the echo replies at the cached MAC are', () => {
    const { before, after, echoes } = load('second-sweep');
    expect(freshBetween(before, after)).toEqual([]);
    expect(provenAlive(before, after, [], LAN)).toEqual([]);
    expect(provenAlive(before, after, echoes, LAN).map((a) => [a.ip, a.via])).toEqual([
      ['192.168.1.12', 'echo'],
      ['192.168.1.13', 'echo'],
    ]);
  });

  it('a host that left right after the table confirmed it is not present, though its entry stays REACHABLE', () => {
    const { before, after, echoes } = load('left-reachable');
    const left = after.entries.find((e) => e.ip === '192.168.1.12')!;
    expect(left).toMatchObject({ state: 'REACHABLE', mac: 'b8:27:eb:00:00:12' });
    expect(provenAlive(before, after, echoes, LAN).map((a) => a.ip)).toEqual(['192.168.1.13']);
  });

  it('a moved host whose MAC was learnt during the sweep counts, even in DELAY; its old cached address does not', () => {
    const { before, after, echoes } = load('moved');
    const newEntry = after.entries.find((e) => e.ip === '192.168.1.105')!;
    expect(newEntry.state).toBe('DELAY');
    expect(confirmedBetween(before, after).map((e) => e.ip)).not.toContain('192.168.1.105');
    expect(provenAlive(before, after, echoes, LAN).map((a) => [a.ip, a.mac])).toEqual([
      ['192.168.1.13', 'b8:27:eb:00:00:13'],
      ['192.168.1.105', 'b8:27:eb:00:00:12'],
    ]);
  });
});

describe('freshness rules on built tables', () => {
  const snap = (at: number, entries: NeighbourEntry[]): NeighbourSnapshot => ({ iface: 'eth0', at, entries });
  const M = 'b8:27:eb:00:00:10';
  const N = '02:00:00:00:00:99';

  it('a STALE, DELAY or PROBE entry alone is never proof', () => {
    for (const state of ['STALE', 'DELAY', 'PROBE'] as const) {
      const before = snap(0, [{ ip: '192.168.1.10', mac: M, state }]);
      const after = snap(900, [{ ip: '192.168.1.10', mac: M, state }]);
      expect(freshBetween(before, after)).toEqual([]);
      expect(provenAlive(before, after, [{ target: '192.168.1.10', received: 0 }], LAN)).toEqual([]);
    }
  });

  it('PERMANENT and NOARP entries never count, even when new', () => {
    const after = snap(900, [{ ip: '192.168.1.10', mac: M, state: 'PERMANENT' }, { ip: '192.168.1.11', mac: M, state: 'NOARP' }]);
    expect(freshBetween(snap(0, []), after)).toEqual([]);
    expect(provenAlive(snap(0, []), after, [{ target: '192.168.1.10', received: 3 }], LAN)).toEqual([]);
  });

  it('STALE to REACHABLE is a confirmation; a new MAC is proof of the new MAC', () => {
    expect(ips(confirmedBetween(snap(0, [{ ip: '192.168.1.10', mac: M, state: 'STALE' }]), snap(500, [{ ip: '192.168.1.10', mac: M, state: 'REACHABLE', confirmedS: 0 }])))).toEqual(['192.168.1.10']);
    const moved = freshBetween(snap(0, [{ ip: '192.168.1.10', mac: M, state: 'STALE' }]), snap(500, [{ ip: '192.168.1.10', mac: N, state: 'STALE' }]));
    expect(moved.map((e) => e.mac)).toEqual([N]);
  });

  it('REACHABLE before and after counts only when the age proves a newer confirmation (ages are whole seconds)', () => {
    const before = snap(0, [{ ip: '192.168.1.10', mac: M, state: 'REACHABLE', confirmedS: 20 }]);
    expect(confirmedBetween(before, snap(800, [{ ip: '192.168.1.10', mac: M, state: 'REACHABLE', confirmedS: 0 }]))).toHaveLength(1);
    expect(confirmedBetween(before, snap(800, [{ ip: '192.168.1.10', mac: M, state: 'REACHABLE', confirmedS: 20 }]))).toHaveLength(0);
    const recent = snap(0, [{ ip: '192.168.1.10', mac: M, state: 'REACHABLE', confirmedS: 0 }]);
    // 0 s then 0 s, 0.8 s apart: the same confirmation or a new one, no telling; not counted.
    expect(confirmedBetween(recent, snap(800, [{ ip: '192.168.1.10', mac: M, state: 'REACHABLE', confirmedS: 0 }]))).toHaveLength(0);
  });

  it('an echo reply counts only when the cached MAC did not change during the sweep', () => {
    const before = snap(0, [{ ip: '192.168.1.10', mac: M, state: 'STALE' }]);
    const same = snap(900, [{ ip: '192.168.1.10', mac: M, state: 'DELAY' }]);
    expect(provenAlive(before, same, [{ target: '192.168.1.10', received: 2 }], LAN).map((a) => [a.mac, a.via])).toEqual([[M, 'echo']]);
    const changed = snap(900, [{ ip: '192.168.1.10', mac: N, state: 'STALE' }]);
    // The new MAC is proof by itself (learnt during the sweep); the echo is not credited to the old one.
    expect(provenAlive(before, changed, [{ target: '192.168.1.10', received: 2 }], LAN).map((a) => [a.mac, a.via])).toEqual([[N, 'arp']]);
  });

  it('an entry dropped during the sweep (as root) and learnt again counts with its new MAC, in any learnt state', () => {
    const before = snap(0, [{ ip: '192.168.1.10', mac: M, state: 'REACHABLE', confirmedS: 0 }]);
    const after = snap(900, [{ ip: '192.168.1.10', mac: N, state: 'REACHABLE', confirmedS: 0 }]);
    expect(provenAlive(before, after, [{ target: '192.168.1.10', received: 0 }], LAN, new Set(['192.168.1.10'])).map((a) => a.mac)).toEqual([N]);
    // Learnt again with the same MAC, same age as before: only the drop tells it is new.
    const again = snap(900, [{ ip: '192.168.1.10', mac: M, state: 'REACHABLE', confirmedS: 0 }]);
    expect(provenAlive(before, again, [{ target: '192.168.1.10', received: 0 }], LAN)).toEqual([]);
    expect(provenAlive(before, again, [{ target: '192.168.1.10', received: 0 }], LAN, new Set(['192.168.1.10'])).map((a) => a.mac)).toEqual([M]);
    // Dropped and not answered since: nothing.
    const gone = snap(900, [{ ip: '192.168.1.10', state: 'INCOMPLETE' }]);
    expect(provenAlive(before, gone, [{ target: '192.168.1.10', received: 0 }], LAN, new Set(['192.168.1.10']))).toEqual([]);
  });

  it('never reports an address outside the swept set', () => {
    const after = snap(900, [{ ip: '10.0.0.5', mac: M, state: 'REACHABLE', confirmedS: 0 }, { ip: '192.168.1.11', mac: N, state: 'REACHABLE', confirmedS: 0 }]);
    expect(provenAlive(snap(0, []), after, [{ target: '10.0.0.5', received: 1 }], LAN)).toEqual([]);
  });
});
