/**
 * The DNS probe's decisions, on transport results built from replies recorded
 * from dnsmasq: what it asks, how each answer is judged, how a server is
 * summed up. The probe against real servers is in test/lab/dns.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DnsResult } from '../../src/probes/net/dns-client.js';
import { MAX_TCP_REPLY, parseReply } from '../../src/probes/net/dns-packet.js';
import {
  configuredServers,
  dhcpOfferedServers,
  planQuestions,
  queryObservation,
  serverObservation,
  type Question,
} from '../../src/probes/dns.js';
import type { Observation } from '../../src/probes/types.js';
import { configFrom } from '../support/config.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures/packets/dns');

/** A transport result carrying a recorded dnsmasq reply. */
function answered(fixture: string, server = '192.168.1.10', latencyMs = 1.2): DnsResult {
  const r = JSON.parse(readFileSync(join(FIXTURES, `${fixture}.json`), 'utf8'));
  const v = parseReply(Buffer.from(r.reply, 'hex'), { id: r.question.id, question: r.question, maxSize: MAX_TCP_REPLY });
  if (!v.ok) throw new Error(v.detail);
  return { server, port: 53, name: r.question.name, type: r.question.type, outcome: 'answered', reply: v.reply, latencyMs, attempts: 1, transport: r.transport, strays: 0, rejected: 0 };
}

function failed(outcome: DnsResult['outcome'], name: string, server = '192.168.1.10', error?: string): DnsResult {
  return { server, port: 53, name, type: 'A', outcome, latencyMs: 4500, attempts: outcome === 'timeout' ? 3 : 1, transport: 'udp', strays: 0, rejected: 0, ...(error ? { error } : {}) };
}

const record: Question = { name: 'pi-vpn.home', type: 'A', kind: 'record', expected: '192.168.1.20' };
const external: Question = { name: 'example.com', type: 'A', kind: 'external' };
const reverse: Question = { name: '20.1.168.192.in-addr.arpa', type: 'PTR', kind: 'reverse', host: 'pi-vpn' };

describe('what the DNS probe asks', () => {
  const config = configFrom(`
hosts:
  - { name: pi-dns, mac: "b8:27:eb:00:00:10", ip: 192.168.1.10 }
  - { name: pi-vpn, mac: "b8:27:eb:00:00:20", ip: 192.168.1.20 }
router: { dnsServer: 192.168.1.10 }
dns:
  servers: [192.168.1.10, 192.168.1.1]
  records: { pi-vpn.home: 192.168.1.20, PI-VPN.home.: 192.168.1.20 }
  external: [example.com]
`);

  it('records, external names and the reverse of each host, once each', () => {
    expect(planQuestions(config)).toEqual([
      { name: 'pi-vpn.home', type: 'A', kind: 'record', expected: '192.168.1.20' },
      { name: 'example.com', type: 'A', kind: 'external' },
      { name: '10.1.168.192.in-addr.arpa', type: 'PTR', kind: 'reverse', host: 'pi-dns' },
      { name: '20.1.168.192.in-addr.arpa', type: 'PTR', kind: 'reverse', host: 'pi-vpn' },
    ]);
  });

  it('every configured server once, with all its sources', () => {
    const servers = configuredServers(config);
    expect([...servers.keys()]).toEqual(['192.168.1.10', '192.168.1.1']);
    expect([...servers.get('192.168.1.10')!]).toEqual(['config', 'router']);
  });

  it('says resolv.conf when the servers were read from the machine', () => {
    const servers = configuredServers(configFrom('dns: { external: [example.com] }'));
    expect(Object.fromEntries([...servers].map(([s, src]) => [s, [...src]]))).toEqual({ '192.168.1.10': ['resolv.conf'] });
  });

  it('takes the DNS servers from DHCP offers, ignoring junk', () => {
    const offer = (dns: unknown) => ({ check: 'offer', data: { dns } }) as unknown as Observation;
    expect(dhcpOfferedServers([offer(['192.168.1.10', '192.168.1.254']), offer(['192.168.1.10', 'nonsense', 7]), { check: 'summary', data: { dns: ['1.2.3.4'] } } as unknown as Observation])).toEqual(['192.168.1.10', '192.168.1.254']);
    expect(dhcpOfferedServers(undefined)).toEqual([]);
  });
});

describe('judging one answer', () => {
  it('the expected address: ok/answered, with rcode, flags, TTL and latency', () => {
    const o = queryObservation(record, answered('a-answer'));
    expect(o).toMatchObject({ check: 'query', subject: '192.168.1.10/pi-vpn.home/A', status: 'ok', reason: 'answered' });
    expect(o.labels).toMatchObject({ server: '192.168.1.10', name: 'pi-vpn.home', type: 'A', kind: 'record', expected: '192.168.1.20', actual: '192.168.1.20' });
    expect(o.values).toEqual({ latency_ms: 1.2, rcode: 0, ok: 1 });
    expect(o.data).toMatchObject({ rcode: 0, rcodeName: 'NOERROR', flags: { aa: true, ra: true, tc: false }, answers: ['192.168.1.20'], ttl: 0, expected: '192.168.1.20', attempts: 1, transport: 'udp' });
  });

  it('another address: fail/wrong-answer naming expected and actual', () => {
    const o = queryObservation({ ...record, expected: '192.168.1.21' }, answered('a-answer'));
    expect(o).toMatchObject({ status: 'fail', reason: 'wrong-answer', labels: { expected: '192.168.1.21', actual: '192.168.1.20' } });
    expect(o.summary).toContain('expected 192.168.1.21');
    expect(o.values?.ok).toBe(0);
  });

  it('through a CNAME: the address at the end of the chain counts', () => {
    expect(queryObservation({ ...record, name: 'vpn.home' }, answered('cname-chain'))).toMatchObject({ status: 'ok', data: { answers: ['192.168.1.20'] } });
  });

  it('PTR answers are names', () => {
    expect(queryObservation(reverse, answered('ptr-answer'))).toMatchObject({ status: 'ok', labels: { host: 'pi-vpn' }, data: { answers: ['pi-vpn.home'] } });
  });

  it('NXDOMAIN, REFUSED, timeout, ICMP refused, unreachable each keep their own reason', () => {
    expect(queryObservation({ ...record, name: 'nope.home' }, answered('nxdomain'))).toMatchObject({ status: 'fail', reason: 'nxdomain', values: { rcode: 3 } });
    expect(queryObservation(external, answered('refused'))).toMatchObject({ status: 'fail', reason: 'refused', values: { rcode: 5 } });
    const t = queryObservation(external, failed('timeout', 'example.com'));
    expect(t).toMatchObject({ status: 'fail', reason: 'timeout', values: { ok: 0 } });
    expect(t.values?.latency_ms).toBeUndefined();
    expect(t.data!.rcode).toBeUndefined();
    expect(queryObservation(external, failed('refused', 'example.com', '192.168.1.10', 'ECONNREFUSED'))).toMatchObject({ status: 'fail', reason: 'refused' });
    expect(queryObservation(external, failed('unreachable', 'example.com', '192.168.1.10', 'EHOSTUNREACH'))).toMatchObject({ status: 'fail', reason: 'unreachable' });
    expect(queryObservation(external, failed('malformed', 'example.com'))).toMatchObject({ status: 'error', reason: 'malformed' });
  });

  it('names from a hostile server reach the summary, labels and data escaped (recorded from BIND)', () => {
    const o = queryObservation({ name: 'escape.home', type: 'A', kind: 'record', expected: '192.168.1.66' }, answered('bind-cname-escape-sequence'));
    expect(o).toMatchObject({ status: 'ok', data: { answers: ['192.168.1.66'] } });
    const ptr = queryObservation({ ...reverse, name: '66.1.168.192.in-addr.arpa' }, answered('bind-ptr-control-bytes'));
    expect(ptr.summary).toContain('evil\\x07\\x08name.home');
    const wrong = queryObservation({ name: 'ayb.cn', type: 'A', kind: 'record', expected: '192.0.2.2' }, answered('bind-cname-control-bytes'));
    expect(wrong).toMatchObject({ reason: 'wrong-answer', labels: { actual: '192.0.2.1' } });
    // JSON writes a raw control character as \u00XX: none may appear anywhere in what the renderers get.
    for (const draft of [o, ptr, wrong]) expect(JSON.stringify(draft)).not.toMatch(/\\u00[01][0-9a-f]|\\u007f/);
  });

  it('an EDNS extended rcode is named as such: BADCOOKIE, not YXRRSET (recorded from BIND)', () => {
    const o = queryObservation(record, answered('bind-badcookie'));
    expect(o).toMatchObject({ status: 'error', reason: 'badcookie', values: { rcode: 23 }, data: { rcodeName: 'BADCOOKIE' } });
    expect(o.summary).toBe('192.168.1.10 answered BADCOOKIE to pi-vpn.home A');
  });

  it('a full answer fetched over TCP after truncation says so', () => {
    expect(queryObservation({ name: 'big.home', type: 'A', kind: 'external' }, answered('tcp-full'))).toMatchObject({ status: 'ok', data: { transport: 'tcp' } });
  });
});

describe('summing up a server', () => {
  const S = '192.168.1.10';
  const obs = (q: Question, r: DnsResult) => queryObservation(q, r);

  it('everything right: ok/healthy with the median latency', () => {
    const o = serverObservation(S, ['config', 'router'], [obs(record, answered('a-answer', S, 1)), obs(reverse, answered('ptr-answer', S, 3)), obs(external, answered('a-answer', S, 20))]);
    expect(o).toMatchObject({ check: 'server', subject: S, status: 'ok', reason: 'healthy', labels: { server: S, source: 'config,router' } });
    expect(o.values).toEqual({ answered: 3, failed: 0, ok: 1, latency_ms: 3 });
    expect(o.data).toMatchObject({ local: { ok: 2, total: 2 }, external: { ok: 1, total: 1 } });
  });

  it('silence on every question: unreachable', () => {
    expect(serverObservation(S, ['config'], [obs(record, failed('timeout', 'pi-vpn.home')), obs(external, failed('unreachable', 'example.com'))])).toMatchObject({ status: 'fail', reason: 'unreachable' });
  });

  it('port closed: refused, not unreachable', () => {
    const o = serverObservation(S, ['config'], [obs(record, failed('refused', 'pi-vpn.home')), obs(external, failed('refused', 'example.com'))]);
    expect(o).toMatchObject({ status: 'fail', reason: 'refused' });
    expect(o.values?.latency_ms).toBeUndefined();
  });

  it('REFUSED to every question: refused', () => {
    expect(serverObservation(S, ['config'], [obs(external, answered('refused'))])).toMatchObject({ status: 'fail', reason: 'refused' });
  });

  it('local names fine, external failing: upstream-failing, not down', () => {
    for (const ext of [failed('timeout', 'example.com'), answered('refused'), { ...answered('refused'), reply: { ...answered('refused').reply!, rcode: 2, rcodeName: 'SERVFAIL' } }]) {
      const o = serverObservation(S, ['config'], [obs(record, answered('a-answer')), obs(reverse, answered('ptr-answer')), obs(external, ext)]);
      expect(o).toMatchObject({ status: 'fail', reason: 'upstream-failing', data: { local: { ok: 2, total: 2 }, external: { ok: 0, total: 1 } } });
    }
  });

  it('a wrong record: wrong-answers, listing expected and actual', () => {
    const o = serverObservation(S, ['config'], [obs({ ...record, expected: '192.168.1.21' }, answered('a-answer')), obs(external, answered('a-answer'))]);
    expect(o).toMatchObject({ status: 'fail', reason: 'wrong-answers', data: { wrongAnswers: [{ name: 'pi-vpn.home', expected: '192.168.1.21', actual: ['192.168.1.20'] }] } });
  });

  it('anything else failing: partial', () => {
    expect(serverObservation(S, ['config'], [obs(record, answered('a-answer')), obs(reverse, answered('nxdomain'))])).toMatchObject({ status: 'fail', reason: 'partial', data: { reasons: { answered: 1, nxdomain: 1 } } });
  });
});
