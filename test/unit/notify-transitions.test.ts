import { describe, expect, it } from 'vitest';
import type { CheckReport } from '../../src/report/json.js';
import { nextNotifyState, type NotifyState } from '../../src/sinks/notify/transitions.js';
import { bodyOf, subjectOf } from '../../src/sinks/notify/templates.js';
import type { Alert, NotificationMessage } from '../../src/sinks/notify/types.js';
import { finding, sampleReport } from '../support/reports.js';

const T0 = Date.parse('2026-12-01T08:00:00Z');
const MIN = 60_000;
const TEN_MIN = 10 * MIN;

const dhcpRoot = () =>
  finding('dhcp-server-missing', { iface: 'eth0' }, {
    title: 'No DHCP server answers on eth0',
    fixes: [{ title: 'Restart the router\'s DHCP server', steps: ['ssh admin@192.168.1.1 /etc/init.d/dnsmasq restart'] }],
    explains: ['host-moved{host=pi-dns}'],
  });
const moved = () => finding('host-moved', { host: 'pi-dns' }, { root: false, title: 'pi-dns moved', suppressedBy: ['dhcp-server-missing{iface=eth0}'], rootKeys: ['dhcp-server-missing{iface=eth0}'] });

function run(at: number, kind: 'ok' | 'bad' | 'unknown' | 'worse-root' | 'warning'): CheckReport {
  const r = sampleReport(at, { broken: kind !== 'ok' && kind !== 'unknown' });
  if (kind === 'bad') r.findings = [dhcpRoot(), moved()];
  if (kind === 'worse-root') r.findings = [dhcpRoot(), moved(), finding('wan-down', {}, { title: 'The internet is unreachable' })];
  if (kind === 'warning') {
    r.status = 'warning';
    r.findings = [finding('ddns-stale', { hostname: 'home.dyn' }, { severity: 'warning', title: 'DDNS record is stale' })];
  }
  if (kind === 'unknown') {
    r.status = 'unknown';
    r.findings = [finding('dns-server-down', {}, { severity: 'unknown' })];
  }
  return r;
}

/** Runs a sequence of one-minute runs; returns every message and the final state. */
function sequence(kinds: Array<Parameters<typeof run>[1]>, opts: { everyMs?: number; minIntervalMs?: number } = {}) {
  let state: NotifyState | undefined;
  const messages: Array<NotificationMessage & { run: number }> = [];
  const alerts: Alert[][] = [];
  kinds.forEach((k, i) => {
    const r = nextNotifyState(state, run(T0 + i * (opts.everyMs ?? MIN), k), opts.minIntervalMs ?? TEN_MIN);
    state = r.state;
    messages.push(...r.messages.map((m) => ({ ...m, run: i })));
    alerts.push(r.alerts);
  });
  return { messages, state: state!, alerts };
}

describe('notification transitions', () => {
  it('healthy, 5 bad runs, 2 healed: one opened naming the root cause and first fix, one resolved with the duration', () => {
    const { messages } = sequence(['ok', 'bad', 'bad', 'bad', 'bad', 'bad', 'ok', 'ok']);
    expect(messages.map((m) => `${m.kind}@${m.run}`)).toEqual(['opened@1', 'resolved@6']);
    const [opened, resolved] = messages;
    expect(opened.causes[0]).toMatchObject({ id: 'dhcp-server-missing', fix: { title: 'Restart the router\'s DHCP server', firstStep: 'ssh admin@192.168.1.1 /etc/init.d/dnsmasq restart' }, followed: ['pi-dns moved'] });
    expect(subjectOf(opened)).toBe('[home] DOWN: No DHCP server answers on eth0');
    expect(bodyOf(opened)).toContain('ssh admin@192.168.1.1 /etc/init.d/dnsmasq restart');
    expect(resolved).toMatchObject({ incidentId: opened.incidentId, durationMs: 5 * MIN, resolvedAt: new Date(T0 + 6 * MIN).toISOString() });
    expect(resolved.cleared!.map((c) => c.key)).toEqual(['dhcp-server-missing{iface=eth0}', 'host-moved{host=pi-dns}']);
    expect(bodyOf(resolved)).toContain('Resolved after 5 min');
  });

  it('a three-hour outage checked every minute sends one message, not 180', () => {
    const { messages } = sequence([...Array(180).fill('bad'), 'ok']);
    expect(messages.map((m) => m.kind)).toEqual(['opened', 'resolved']);
  });

  it('a network flapping every minute for an hour sends at most one message per 10 minutes after the first pair', () => {
    const kinds = Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? 'bad' : 'ok'));
    const { messages } = sequence(kinds);
    expect(messages.slice(0, 2).map((m) => m.kind)).toEqual(['opened', 'resolved']);
    const times = messages.map((m) => m.run);
    for (let i = 2; i < times.length; i++) expect(times[i] - times[i - 1], `messages ${i - 1} and ${i}`).toBeGreaterThanOrEqual(10);
    expect(messages.length).toBeGreaterThanOrEqual(6); // it is still told, not silenced
    expect(messages.length).toBeLessThanOrEqual(2 + 6);
    expect(new Set(messages.map((m) => m.incidentId)).size).toBe(1);
    expect(messages.filter((m) => m.kind === 'opened').slice(1).every((m) => m.reopened)).toBe(true);
  });

  it('a new root cause or worse severity is a change, told once and no sooner than minInterval after the last message', () => {
    const { messages } = sequence(['warning', ...Array(12).fill('bad'), ...Array(10).fill('worse-root'), 'ok']);
    expect(messages.map((m) => `${m.kind}@${m.run}`)).toEqual(['opened@0', 'changed@10', 'changed@20', 'resolved@23']);
    expect(messages[1].change).toEqual({ newCauses: ['dhcp-server-missing{iface=eth0}'], severityFrom: 'warning' });
    expect(messages[2].change).toEqual({ newCauses: ['wan-down{}'] });
  });

  it('runs that could not judge neither open, resolve nor end alerts', () => {
    const { messages, alerts } = sequence(['unknown', 'bad', 'unknown', 'unknown', 'ok']);
    expect(messages.map((m) => `${m.kind}@${m.run}`)).toEqual(['opened@1', 'resolved@4']);
    expect(alerts[2]).toHaveLength(1);
    expect(Date.parse(alerts[2][0].endsAt!)).toBeGreaterThan(T0 + 2 * MIN);
  });

  it('a new incident after a quiet interval gets a new id and is not held', () => {
    const { messages } = sequence(['bad', 'ok', ...Array(10).fill('ok'), 'bad']);
    expect(messages.map((m) => `${m.kind}@${m.run}`)).toEqual(['opened@0', 'resolved@1', 'opened@12']);
    expect(messages[2].incidentId).not.toBe(messages[0].incidentId);
    expect(messages[2].reopened).toBeUndefined();
  });

  it('Alertmanager gets one alert per root finding, refreshed each run, and an endsAt when it clears', () => {
    const { alerts } = sequence(['bad', 'bad', 'ok', 'ok'], { everyMs: 2 * MIN });
    expect(alerts[0]).toHaveLength(1);
    expect(alerts[0][0]).toMatchObject({
      labels: { alertname: 'dhcp-server-missing', site: 'home', severity: 'critical', iface: 'eth0' },
      annotations: { summary: 'No DHCP server answers on eth0', fix: 'Restart the router\'s DHCP server: ssh admin@192.168.1.1 /etc/init.d/dnsmasq restart' },
      startsAt: new Date(T0).toISOString(),
    });
    expect(alerts[1][0].startsAt).toBe(alerts[0][0].startsAt);
    expect(Date.parse(alerts[1][0].endsAt!)).toBe(T0 + 2 * MIN + 4 * 2 * MIN); // four run intervals past the run
    expect(alerts[2]).toEqual([expect.objectContaining({ endsAt: new Date(T0 + 4 * MIN).toISOString() })]);
    expect(alerts[3]).toEqual([]);
  });
});
