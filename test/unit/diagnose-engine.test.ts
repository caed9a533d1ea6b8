/**
 * The engine's promises, each on a run built to test exactly it: explanations
 * scoped by labels, transitive, never deleting; unknown never healthy (and
 * out-of-scope unknowns never changing the status); ranking; stable keys;
 * robustness against cycles, rules that throw and observations in any order.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import type { Config } from '../../src/config/resolve.js';
import { diagnose, diagnoseWith, findingKey, statusOf } from '../../src/diagnose/index.js';
import type { ExplainEdge, FindingDraft, Rule } from '../../src/diagnose/rule.js';
import type { Observation } from '../../src/probes/types.js';
import { configFrom } from '../support/config.js';
import { recordedScenario } from '../support/scenarios.js';

function scenario(name: string, yamlExtra = ''): { config: Config; observations: Observation[] } {
  const { config, run } = recordedScenario(name, yamlExtra);
  return { config, observations: run.observations };
}

const find = (d: ReturnType<typeof diagnose>, key: string) => d.findings.find((f) => f.key === key);
const keys = (d: ReturnType<typeof diagnose>) => d.findings.map((f) => f.key);
const roots = (d: ReturnType<typeof diagnose>) => d.findings.filter((f) => f.root).map((f) => f.key);

function obs(partial: Partial<Observation> & Pick<Observation, 'probe' | 'check' | 'subject' | 'status' | 'reason'>): Observation {
  return {
    id: `${partial.probe}:${partial.check}:${partial.subject}`,
    summary: `${partial.subject} ${partial.reason}`,
    labels: {},
    values: {},
    durationMs: 1,
    at: '2026-11-25T14:00:01.000Z',
    ...partial,
  };
}

describe('keys', () => {
  it('are the id with its labels sorted, the bare id without labels, quoted only where ambiguous', () => {
    expect(findingKey('host-moved', { host: 'pi-dns', actual: '192.168.1.142', expected: '192.168.1.10' })).toBe(
      'host-moved{actual=192.168.1.142,expected=192.168.1.10,host=pi-dns}',
    );
    expect(findingKey('wan-down', {})).toBe('wan-down{}');
    expect(findingKey('ddns-stale', { published: '203.0.113.10,203.0.113.12' })).toBe('ddns-stale{published="203.0.113.10,203.0.113.12"}');
  });

  it('do not depend on the order observations arrive in, nor does the diagnosis', () => {
    for (const name of ['unplugged-pi', 'reservations-lost', 'ddns-stale-and-dns-down', 'isp-down', 'rogue-dhcp', 'outside-vpn-unreachable']) {
      const { config, observations } = scenario(name);
      const a = diagnose(observations, config);
      const b = diagnose([...observations].reverse(), config);
      expect(keys(b), name).toEqual(keys(a));
      expect(b, name).toEqual(a);
    }
  });
});

describe('explanation is scoped by labels', () => {
  it('a moved Pi explains the DNS failure at its own address, not one at another server', () => {
    // reservations-lost, plus a second DNS server in the config that is also silent.
    const { config, observations } = scenario('reservations-lost');
    config.dns.servers.push('192.168.1.53');
    observations.push(
      obs({ probe: 'dns', check: 'query', subject: '192.168.1.53/example.com/A', status: 'fail', reason: 'timeout', labels: { server: '192.168.1.53', name: 'example.com', type: 'A', kind: 'external' } }),
      obs({ probe: 'dns', check: 'server', subject: '192.168.1.53', status: 'fail', reason: 'unreachable', labels: { server: '192.168.1.53', source: 'config' } }),
    );
    const d = diagnose(observations, config);
    const moved = d.findings.find((f) => f.id === 'host-moved' && f.labels.host === 'pi-dns')!.key;
    expect(find(d, 'dns-server-down{server=192.168.1.10}')!.suppressedBy).toEqual([moved]);
    const other = find(d, 'dns-server-down{server=192.168.1.53}')!;
    expect(other.root).toBe(true);
    expect(other.suppressedBy).toEqual([]);
    expect(find(d, moved)!.explains).toEqual(['dns-server-down{server=192.168.1.10}']);
  });

  it('a missing DHCP server explains hosts that fell to link-local, not a host that moved to a pool address', () => {
    const { config, observations } = scenario('unplugged-pi-link-local');
    const vpn = observations.find((o) => o.id === 'hosts:host:pi-vpn')!;
    Object.assign(vpn, { reason: 'moved', labels: { ...vpn.labels, actual: '192.168.1.157' } });
    const d = diagnose(observations, config);
    expect(find(d, 'host-moved{actual=169.254.77.12,expected=192.168.1.10,host=pi-dns}')!.suppressedBy).toEqual(['dhcp-server-missing{iface=eth0}']);
    expect(find(d, 'host-moved{actual=192.168.1.157,expected=192.168.1.20,host=pi-vpn}')!.root).toBe(true);
  });

  it('ddns-stale explains vpn-unreachable only for its own name', () => {
    const { config, observations } = scenario('outside-vpn-unreachable');
    const stale = (hostname: string): Rule => ({
      id: 'fake-ddns', family: 'ddns', question: 'test', needs: [], produces: ['ddns-stale'],
      match: () => [draft('ddns-stale', { hostname, published: '203.0.113.10', actual: '203.0.113.11' }, 'warning')],
    });
    const { RULES, EDGES } = realRules();
    const same = diagnoseWith([...RULES, stale('home.dyn.example.net')], EDGES, observations, config);
    expect(find(same, 'vpn-unreachable{name=home.dyn.example.net}')!.suppressedBy).toEqual(['ddns-stale{actual=203.0.113.11,hostname=home.dyn.example.net,published=203.0.113.10}']);
    const other = diagnoseWith([...RULES, stale('other.example.net')], EDGES, observations, config);
    expect(find(other, 'vpn-unreachable{name=home.dyn.example.net}')!.root).toBe(true);
  });
});

describe('explanation is transitive and deletes nothing', () => {
  it('unplugged-pi as recorded: both Pis missing beneath the DHCP root, the DNS failure beneath pi-dns', () => {
    const { config, observations } = scenario('unplugged-pi');
    const d = diagnose(observations, config);
    expect(find(d, 'dns-server-down{server=192.168.1.10}')!.suppressedBy).toEqual(['host-missing{host=pi-dns}']);
    expect(find(d, 'dns-server-down{server=192.168.1.10}')!.rootKeys).toEqual(['dhcp-server-missing{iface=eth0}']);
    expect(find(d, 'vpn-forward-stale{port=1194,to=192.168.1.20}')!.depth).toBe(2);
    // One root; everything else beneath it.
    expect(d.findings.filter((f) => f.root && f.severity !== 'unknown').map((f) => f.key)).toEqual(['dhcp-server-missing{iface=eth0}']);
    for (const key of ['host-missing{host=pi-dns}', 'host-missing{host=pi-vpn}', 'dns-server-down{server=192.168.1.10}', 'vpn-forward-stale{port=1194,to=192.168.1.20}']) {
      expect(find(d, key)!.rootKeys, key).toEqual(['dhcp-server-missing{iface=eth0}']);
    }
    // "New devices get no address" is the root's own impact (no probe can observe a device that is not there yet).
    const root = find(d, 'dhcp-server-missing{iface=eth0}')!;
    expect(root.impact).toMatch(/New devices/);
    for (const [name, ip] of [['pi-dns', '192.168.1.10'], ['pi-vpn', '192.168.1.20']]) {
      expect(root.fixes.some((f) => f.title.includes(name) && f.title.includes(ip) && f.snippet?.text.includes(`${ip}/24`)), `${name} static address fix`).toBe(true);
    }
  });

  it('unplugged-pi, link-local seen: the DNS failure hangs beneath the DHCP root through the moved Pi', () => {
    const { config, observations } = scenario('unplugged-pi-link-local');
    const d = diagnose(observations, config);
    expect(d.findings).toHaveLength(5);
    const dns = find(d, 'dns-server-down{server=192.168.1.10}')!;
    expect(dns.suppressedBy).toEqual(['host-moved{actual=169.254.77.12,expected=192.168.1.10,host=pi-dns}']);
    expect(dns.rootKeys).toEqual(['dhcp-server-missing{iface=eth0}']);
    expect(dns.depth).toBe(2);
    expect(dns.severity).toBe('critical');
    const root = d.findings[0];
    expect(root.key).toBe('dhcp-server-missing{iface=eth0}');
    // The root's explanation walks the whole chain, with names and addresses.
    for (const s of ['169.254.77.12', 'pi-dns', 'pi-vpn', '192.168.1.10', 'UDP 1194', '192.168.1.20']) expect(root.explanation).toContain(s);
    expect(root.impact).toMatch(/New devices/);
    expect(root.impact).toMatch(/cannot resolve names/);
    expect(root.impact).toMatch(/Outside servers cannot connect to the VPN/);
    // …and its fixes give each Pi its static address by name and address.
    for (const [name, ip] of [['pi-dns', '192.168.1.10'], ['pi-vpn', '192.168.1.20']]) {
      expect(root.fixes.some((f) => f.title.includes(name) && f.title.includes(ip) && f.snippet?.text.includes(`${ip}/24`))).toBe(true);
    }
  });

  it('explained findings keep their own severity and count for the status', () => {
    const { config, observations } = scenario('cgnat');
    const d = diagnose(observations, config);
    const stale = d.findings.find((f) => f.id === 'ddns-stale')!;
    expect(stale.root).toBe(false);
    expect(stale.severity).toBe('warning');
    expect(statusOf([{ severity: 'warning' }])).toBe('warning');
  });
});

describe('unknown, never healthy', () => {
  function replaceProbe(observations: Observation[], probe: Observation['probe'], status: 'error' | 'skipped', reason: string, summary: string): Observation[] {
    return [...observations.filter((o) => o.probe !== probe), obs({ probe, check: 'probe', subject: probe, status, reason, summary })];
  }

  it('an errored probe gives an unknown that names what could not be judged, and the run is unknown', () => {
    const { config, observations } = scenario('healthy');
    const d = diagnose(replaceProbe(observations, 'dns', 'error', 'timeout', 'dns did not finish within the 10000 ms deadline'), config);
    expect(d.status).toBe('unknown');
    expect(roots(d)).toEqual(['dns-unknown{}']);
    const u = d.findings[0];
    expect(u.severity).toBe('unknown');
    expect(u.title).toBe('DNS could not be checked: dns did not finish within the 10000 ms deadline');
    expect(u.explanation).toMatch(/whether each DNS server answers/);
    expect(u.fixes[0].steps.join(' ')).toMatch(/--deadline 20s/);
    expect(u.evidence).toEqual(['dns:probe:dns']);
    expect(u.key).toBe('dns-unknown{}');
  });

  it('an unknown never hides something worse', () => {
    const { config, observations } = scenario('vpn-down');
    const d = diagnose(replaceProbe(observations, 'dhcp', 'error', 'permission', 'cannot bind UDP port 68 (EACCES): run as root'), config);
    expect(d.status).toBe('critical');
    expect(roots(d)).toEqual(['vpn-service-down{host=pi-vpn}', 'dhcp-unknown{}']);
  });

  it('a probe left out with --only/--skip is shown as not checked but does not change the status', () => {
    const { config, observations } = scenario('healthy');
    let run = replaceProbe(observations, 'vpn', 'skipped', 'not-selected', 'vpn not selected (--only/--skip)');
    run = replaceProbe(run, 'ddns', 'skipped', 'not-selected', 'ddns not selected (--only/--skip)');
    const d = diagnose(run, config);
    expect(d.status).toBe('ok');
    expect(d.findings.map((f) => [f.key, f.severity, f.outOfScope])).toEqual([
      ['ddns-unknown{}', 'unknown', true],
      ['vpn-unknown{}', 'unknown', true],
    ]);
    const warn = diagnose(replaceProbe(scenario('ddns-stale').observations, 'vpn', 'skipped', 'not-selected', 'vpn not selected'), config);
    expect(warn.status).toBe('warning');
    expect(roots(warn)[0]).toMatch(/^ddns-stale/);
  });

  it('a probe absent from a saved run is not checked, never healthy and never silent', () => {
    const { config, observations } = scenario('healthy');
    const d = diagnose(observations.filter((o) => o.probe !== 'hosts'), config);
    const u = find(d, 'hosts-unknown{}')!;
    expect(u.outOfScope).toBe(true);
    expect(u.title).toMatch(/not checked: the hosts probe did not run/);
  });

  it('a VPN that stays silent (tls-auth?) is unknown, never down', () => {
    const { config, observations } = scenario('vpn-tls-auth');
    const d = diagnose(observations, config);
    expect(d.findings.map((f) => f.id)).toEqual(['vpn-unknown']);
    expect(d.status).toBe('unknown');
  });
});

describe('ranking', () => {
  it('puts the critical root before the warning one', () => {
    const { config, observations } = scenario('ddns-stale-and-dns-down');
    expect(roots(diagnose(observations, config))).toEqual([
      'dns-server-down{server=192.168.1.10}',
      'ddns-stale{actual=203.0.113.11,hostname=home.dyn.example.net,published=203.0.113.10}',
    ]);
  });

  it('ranks roots by the worst they account for, then by how long a chain they start', () => {
    const rules: Rule[] = [fakeRule('addressing', [
      draft('lone', { n: '1' }, 'critical'),
      draft('head', { n: '2' }, 'warning'),
      draft('middle', { n: '3' }, 'warning'),
      draft('tail', { n: '4' }, 'critical'),
      draft('short', { n: '5' }, 'critical'),
      draft('short-tail', { n: '6' }, 'info'),
    ])];
    const edges: ExplainEdge[] = [
      { cause: 'head', effect: 'middle', because: 't' },
      { cause: 'middle', effect: 'tail', because: 't' },
      { cause: 'short', effect: 'short-tail', because: 't' },
    ];
    const d = diagnoseWith(rules, edges, [], configFrom(''));
    // head (warning) accounts for a critical two steps down: first; then the critical with a chain; then the lone one.
    expect(roots(d)).toEqual(['head{n=2}', 'short{n=5}', 'lone{n=1}']);
    expect(keys(d).slice(3)).toEqual(['middle{n=3}', 'tail{n=4}', 'short-tail{n=6}']);
    expect(d.status).toBe('critical');
  });

  it('puts out-of-scope unknowns after everything else', () => {
    const { config, observations } = scenario('outside-vpn-unreachable');
    const d = diagnose(observations, config);
    expect(d.findings[0].key).toBe('vpn-unreachable{name=home.dyn.example.net}');
    expect(d.findings.slice(1).every((f) => f.outOfScope)).toBe(true);
  });
});

describe('robustness', () => {
  it('a cycle of explanations still leaves every finding beneath a root', () => {
    const rules = [fakeRule('dns', [draft('a', {}, 'critical'), draft('b', {}, 'critical')])];
    const edges: ExplainEdge[] = [
      { cause: 'a', effect: 'b', because: 't' },
      { cause: 'b', effect: 'a', because: 't' },
    ];
    const d = diagnoseWith(rules, edges, [], configFrom(''));
    expect(roots(d)).toEqual(['a{}']);
    expect(find(d, 'b{}')!.rootKeys).toEqual(['a{}']);
  });

  it('a rule that throws becomes an unknown, and the other rules still judge', () => {
    const boom: Rule = { id: 'boom', family: 'dns', question: 'whether it explodes', needs: [], produces: [], match: () => { throw new Error('bad data'); } };
    const { config, observations } = scenario('dns-down');
    const { RULES, EDGES } = realRules();
    const d = diagnoseWith([...RULES, boom], EDGES, observations, config);
    expect(roots(d)).toEqual(['dns-server-down{server=192.168.1.10}', 'rule-failed{rule=boom}']);
    expect(find(d, 'rule-failed{rule=boom}')!.title).toContain('bad data');
  });

  it('malformed data in a saved run never throws out of diagnose', () => {
    const { config, observations } = scenario('unplugged-pi');
    for (const o of observations) (o as { data?: unknown }).data = 'garbage';
    expect(() => diagnose(observations, config)).not.toThrow();
    const stripped = observations.map((o) => ({ ...o, labels: {}, data: undefined }));
    expect(() => diagnose(stripped, config)).not.toThrow();
  });

  it('uses no clock', () => {
    const now = vi.spyOn(Date, 'now').mockImplementation(() => {
      throw new Error('the engine read the clock');
    });
    try {
      for (const name of ['unplugged-pi', 'ddns-stale', 'isp-down']) {
        const { config, observations } = scenario(name);
        expect(() => diagnose(observations, config)).not.toThrow();
      }
    } finally {
      now.mockRestore();
    }
  });

  it('status: worst severity; unknown only when nothing worse; info never', () => {
    expect(statusOf([])).toBe('ok');
    expect(statusOf([{ severity: 'info' }])).toBe('ok');
    expect(statusOf([{ severity: 'unknown' }, { severity: 'info' }])).toBe('unknown');
    expect(statusOf([{ severity: 'unknown' }, { severity: 'warning' }])).toBe('warning');
    expect(statusOf([{ severity: 'warning' }, { severity: 'critical' }, { severity: 'unknown' }])).toBe('critical');
    expect(statusOf([{ severity: 'unknown', outOfScope: true }])).toBe('ok');
  });
});

function draft(id: string, labels: Record<string, string>, severity: FindingDraft['severity']): FindingDraft {
  return { id, labels, severity, title: `${id} title`, explanation: `${id} explanation`, impact: `${id} impact`, evidence: [], fixes: [{ title: 'fix', steps: ['do it'] }] };
}

function fakeRule(family: Rule['family'], drafts: FindingDraft[]): Rule {
  return { id: `fake-${family}`, family, question: 'a test question', needs: [], produces: drafts.map((d) => d.id), match: () => drafts.map((d) => structuredClone(d)) };
}

function realRules() {
  // Imported lazily so the fakes above stay the focus of each test.
  return { RULES: allRules, EDGES: allEdges };
}
import { EDGES as allEdges, RULES as allRules } from '../../src/diagnose/index.js';

describe('rules weigh all the evidence', () => {
  it('a missing host that still answers on the link over IPv6 is said to have lost its address, still beneath DHCP', () => {
    const { config, observations } = scenario('unplugged-pi');
    const dns = observations.find((o) => o.id === 'hosts:host:pi-dns')!;
    dns.data = { ...(dns.data as object), onLink: true, linkLocal6: 'fe80::ba27:ebff:fe00:10' };
    const d = diagnose(observations, config);
    const f = find(d, 'host-missing{host=pi-dns}')!;
    expect(f.title).toBe('pi-dns has no address: it is on the link (IPv6) but not at 192.168.1.10 nor anywhere in the subnet');
    expect(f.explanation).toContain('fe80::ba27:ebff:fe00:10');
    expect(f.suppressedBy).toEqual(['dhcp-server-missing{iface=eth0}']);
    expect(d.findings[0].explanation).toContain('pi-dns lost its address (still on the link');
  });

  it('pings that fail while the internet demonstrably answers are not an outage', () => {
    const { config, observations } = scenario('healthy');
    for (const o of observations.filter((x) => x.probe === 'wan' && ['gateway', 'target', 'summary'].includes(x.check))) {
      Object.assign(o, { status: 'fail', reason: o.check === 'summary' ? 'down' : 'unreachable' });
    }
    const d = diagnose(observations, config);
    expect(d.findings.map((f) => f.key)).toEqual(['wan-ping-blind{}']);
    expect(d.status).toBe('warning');
    expect(d.findings[0].explanation).toMatch(/the public address is 203\.0\.113\.10/);
    // …while with nothing else reaching out either, it is the internet that is down.
    const down = diagnose(scenario('isp-down').observations, config);
    expect(roots(down)).toEqual(['wan-down{}']);
  });

  it('a gateway that does not answer while nothing past it does either is the root of the internet outage', () => {
    const { config, observations } = scenario('isp-down');
    const gw = observations.find((o) => o.probe === 'wan' && o.check === 'gateway')!;
    Object.assign(gw, { status: 'fail', reason: 'unreachable' });
    const d = diagnose(observations, config);
    expect(roots(d)).toEqual(['gateway-down{ip=192.168.1.1}']);
    expect(find(d, 'wan-down{}')!.suppressedBy).toEqual(['gateway-down{ip=192.168.1.1}']);
    expect(find(d, 'dns-upstream-failing{server=192.168.1.10}')!.rootKeys).toEqual(['gateway-down{ip=192.168.1.1}']);
  });
});

describe('docs/rules.md', () => {
  const doc = readFileSync(new URL('../../docs/rules.md', import.meta.url), 'utf8');
  it('documents every finding id a rule can produce, and every explanation edge', () => {
    const ids = new Set([...allRules.flatMap((r) => [...r.produces]), 'rule-failed', ...['dhcp', 'hosts', 'wan', 'dns', 'vpn', 'ddns'].map((p) => `${p}-unknown`)]);
    for (const id of ids) expect(doc, id).toContain(`\`${id}`);
    for (const e of allEdges) {
      const row = doc.split('\n').find((l) => l.startsWith('| `') && l.includes(`\`${e.cause}\``) && l.split('|')[2].includes(`\`${e.effect}\``));
      expect(row, `${e.cause} -> ${e.effect}`).toBeDefined();
    }
  });
});
