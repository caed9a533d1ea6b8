/**
 * Notifications end to end against real receivers on 127.0.0.1: an HTTP
 * receiver for webhook and ntfy, Debian's Alertmanager (its API and its own
 * webhook deliveries), aiosmtpd with STARTTLS and AUTH. A healthy → outage →
 * healed sequence gives one opened and one resolved per channel; a channel
 * that is down costs at most the signal's time, is reported once per run and
 * gets its message on the run after it comes back.
 */
import { createHmac } from 'node:crypto';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CheckReport } from '../../src/report/json.js';
import { waitFor } from '../../src/shared/wait.js';
import { notifyRun } from '../../src/sinks/notify/deliver.js';
import { runNotifySink } from '../../src/sinks/notify/index.js';
import type { NotificationMessage } from '../../src/sinks/notify/types.js';
import { Alertmanager, describeWithPart, memoryNotifyStore, missingPart, notifyConfig, Receiver, SmtpServer } from '../support/notify-parts.js';
import { freePort } from '../support/ports.js';
import { finding, sampleReport } from '../support/reports.js';

const T0 = Date.parse('2026-12-01T08:00:00Z');

/** Run i of the acceptance sequence: healthy, 5 × unplugged (DHCP gone), 2 × healed. */
function acceptanceRun(i: number, at = Date.now()): CheckReport {
  const bad = i >= 1 && i <= 5;
  const r = sampleReport(at, { broken: bad });
  if (bad) {
    r.findings = [finding('dhcp-server-missing', { iface: 'eth0' }, {
      title: 'No DHCP server answers on eth0',
      fixes: [{ title: 'Restart the router\'s DHCP server', steps: ['ssh admin@192.168.1.1 /etc/init.d/dnsmasq restart'] }],
    })];
  }
  return r;
}

const channelsConfig = notifyConfig;
const store = memoryNotifyStore;
const kinds = (bodies: string[]) => bodies.map((b) => (JSON.parse(b) as NotificationMessage).kind);

describe('webhook and ntfy against a local receiver', () => {
  const rx = new Receiver();
  beforeAll(() => rx.start());
  afterAll(() => rx.stop());
  afterEach(() => {
    rx.requests.length = 0;
    rx.status = 200;
  });

  it('healthy → 5 bad runs → 2 healed: one opened and one resolved per channel, signed, with auth', async () => {
    const config = channelsConfig(`    - { type: webhook, url: "${rx.url}/hook", bearer: tok-123, hmacSecret: sign-me }
    - { type: ntfy, url: "${rx.url}/home-net", token: tk_abc }
`);
    const s = store();
    for (let i = 0; i < 8; i++) {
      const r = await notifyRun(s, config, acceptanceRun(i, T0 + i * 60_000), AbortSignal.timeout(5000));
      expect(r.channels.every((c) => !c.error), JSON.stringify(r.channels)).toBe(true);
    }
    const hooks = rx.on('/hook');
    expect(kinds(hooks.map((h) => h.body))).toEqual(['opened', 'resolved']);
    for (const h of hooks) {
      expect(h.headers.authorization).toBe('Bearer tok-123');
      expect(h.headers['x-netdoctor-signature']).toBe(`sha256=${createHmac('sha256', 'sign-me').update(h.body).digest('hex')}`);
    }
    const opened = JSON.parse(hooks[0].body) as NotificationMessage;
    expect(opened).toMatchObject({ version: 1, kind: 'opened', site: 'home', severity: 'critical', title: 'No DHCP server answers on eth0' });
    expect(opened.causes[0].fix).toEqual({ title: 'Restart the router\'s DHCP server', firstStep: 'ssh admin@192.168.1.1 /etc/init.d/dnsmasq restart' });
    expect(JSON.parse(hooks[1].body)).toMatchObject({ kind: 'resolved', durationMs: 5 * 60_000, incidentId: opened.incidentId });

    const ntfy = rx.on('/');
    expect(ntfy).toHaveLength(2);
    expect(ntfy[0].headers.authorization).toBe('Bearer tk_abc');
    const pub = ntfy.map((n) => JSON.parse(n.body) as { topic: string; title: string; message: string; priority: number; tags: string[] });
    expect(pub[0]).toMatchObject({ topic: 'home-net', title: '[home] DOWN: No DHCP server answers on eth0', priority: 5 });
    expect(pub[0].message).toContain('ssh admin@192.168.1.1 /etc/init.d/dnsmasq restart');
    expect(pub[1]).toMatchObject({ title: '[home] RESOLVED: No DHCP server answers on eth0', priority: 2, tags: ['white_check_mark', 'netdoctor', 'home'] });
  });

  it('credentials in a channel URL become a Basic header (fetch refuses them in the URL)', async () => {
    const config = channelsConfig(`    - { type: ntfy, url: "http://nd:pa%40ss@127.0.0.1:${rx.port}/topic" }\n`);
    const r = await notifyRun(store(), config, acceptanceRun(1), AbortSignal.timeout(5000));
    expect(r.channels[0].error).toBeUndefined();
    expect(rx.on('/')[0].headers.authorization).toBe(`Basic ${Buffer.from('nd:pa@ss').toString('base64')}`);
  });

  it('HTTP 500, a closed port and a receiver that never answers: reported once per run, bounded by the signal, delivered when back', async () => {
    const closed = await freePort();
    const config = channelsConfig(`    - { type: webhook, url: "${rx.url}/hook" }
    - { type: webhook, name: closed, url: "http://127.0.0.1:${closed}/hook" }
`);
    const s = store();
    rx.status = 500;
    const first = await notifyRun(s, config, acceptanceRun(1), AbortSignal.timeout(5000));
    expect(first.messages.map((m) => m.kind)).toEqual(['opened']);
    expect(first.channels.map((c) => [c.channel, c.error, c.pending])).toEqual([
      ['webhook:127.0.0.1:' + rx.port, `http://127.0.0.1:${rx.port}/hook: HTTP 500 Internal Server Error (receiver says no)`, 1],
      ['closed', `http://127.0.0.1:${closed}/hook: connection refused`, 1],
    ]);

    rx.status = 0; // accepts and never answers: only the signal ends the wait
    const started = Date.now();
    const second = await notifyRun(s, config, acceptanceRun(2), AbortSignal.timeout(1000));
    const took = Date.now() - started;
    expect(took).toBeLessThan(2000);
    expect(second.channels[0].error).toMatch(/gave up at the run's deadline/);

    rx.status = 200;
    rx.requests.length = 0;
    const third = await notifyRun(s, config, acceptanceRun(3), AbortSignal.timeout(5000));
    expect(third.channels[0]).toMatchObject({ delivered: 1, pending: 0 });
    expect(third.channels[0].error).toBeUndefined();
    expect(kinds(rx.on('/hook').map((h) => h.body))).toEqual(['opened']);
    expect(third.channels[1]).toMatchObject({ pending: 1 }); // still down: kept for the next run
  });
});

describe('the sink as a run calls it', () => {
  const rx = new Receiver();
  beforeAll(() => rx.start());
  afterAll(() => rx.stop());

  it('a run past its deadline: delivery takes at most 1 s more, one line per failed channel, no secret, no exception', async () => {
    rx.status = 0; // never answers
    const config = channelsConfig(`    - { type: webhook, name: slow, url: "${rx.url}/hook", bearer: never-print-me }
    - { type: webhook, name: closed, url: "http://127.0.0.1:${await freePort()}/hook" }
`);
    const db = new Database(':memory:');
    const lines: string[] = [];
    const started = Date.now();
    const result = await runNotifySink({ db, config, report: acceptanceRun(1), deadline: started - 10, warn: (l) => lines.push(l) });
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(1800);
    expect(result?.messages.map((m) => m.kind)).toEqual(['opened']);
    expect(lines).toEqual([
      `netdoctor: notify slow failed: ${rx.url}/hook: gave up at the run's deadline; 1 message kept for the next run`,
      expect.stringMatching(/^netdoctor: notify closed failed: http:\/\/127\.0\.0\.1:\d+\/hook: connection refused; 1 message kept for the next run$/),
    ]);
    expect(lines.join('\n')).not.toContain('never-print-me');
    rx.status = 200;
  });
});

describeWithPart('Alertmanager (Debian prometheus-alertmanager)', missingPart('alertmanager'), () => {
  const rx = new Receiver();
  let am: Alertmanager;
  beforeAll(async () => {
    await rx.start();
    am = await new Alertmanager(`${rx.url}/am`).start();
  }, 30_000);
  afterAll(async () => {
    await am?.stop();
    await rx.stop();
  });

  it('an alert per root cause while it holds, ended with endsAt when it clears; Alertmanager notifies firing then resolved', async () => {
    const config = channelsConfig(`    - { type: alertmanager, url: "${am.url}" }\n`);
    const s = store();
    const t = Date.now() - 10_000;
    for (let i = 0; i < 3; i++) expect((await notifyRun(s, config, acceptanceRun(i, t + i * 1000), AbortSignal.timeout(5000))).channels[0].error).toBeUndefined();
    const active = await waitFor('the alert in /api/v2/alerts', async () => (await am.alerts()).find((a) => a.labels.alertname === 'dhcp-server-missing'), { timeoutMs: 10_000 });
    expect(active.labels).toMatchObject({ site: 'home', severity: 'critical', iface: 'eth0' });
    expect(active.annotations).toMatchObject({ summary: 'No DHCP server answers on eth0', fix: 'Restart the router\'s DHCP server: ssh admin@192.168.1.1 /etc/init.d/dnsmasq restart' });
    const firing = await waitFor('a firing webhook from Alertmanager', () => rx.on('/am').map((r) => JSON.parse(r.body) as { status: string }).find((b) => b.status === 'firing'), { timeoutMs: 15_000, detail: () => am.log });
    expect(firing).toBeTruthy();

    expect((await notifyRun(s, config, acceptanceRun(6, t + 6000), AbortSignal.timeout(5000))).channels[0].error).toBeUndefined();
    await waitFor('the alert to leave /api/v2/alerts', async () => (await am.alerts()).every((a) => a.labels.alertname !== 'dhcp-server-missing'), { timeoutMs: 10_000 });
    await waitFor('a resolved webhook from Alertmanager', () => rx.on('/am').map((r) => JSON.parse(r.body) as { status: string }).find((b) => b.status === 'resolved'), { timeoutMs: 15_000, detail: () => am.log });
  }, 60_000);

  it('an ended alert that could not be delivered is sent on the next run, when Alertmanager is back', async () => {
    const closedConfig = channelsConfig(`    - { type: alertmanager, name: am, url: "http://127.0.0.1:${await freePort()}" }\n`);
    const liveConfig = channelsConfig(`    - { type: alertmanager, name: am, url: "${am.url}" }\n`);
    const s = store();
    const t = Date.now() - 10_000;
    await notifyRun(s, liveConfig, acceptanceRun(1, t), AbortSignal.timeout(5000));
    await waitFor('the alert', async () => (await am.alerts()).some((a) => a.labels.alertname === 'dhcp-server-missing'), { timeoutMs: 10_000 });
    const down = await notifyRun(s, closedConfig, acceptanceRun(6, t + 1000), AbortSignal.timeout(5000));
    expect(down.channels[0]).toMatchObject({ pending: 1, error: expect.stringContaining('connection refused') });
    const back = await notifyRun(s, liveConfig, acceptanceRun(7, t + 2000), AbortSignal.timeout(5000));
    expect(back.channels[0]).toMatchObject({ delivered: 1, pending: 0 });
    await waitFor('the alert to end', async () => (await am.alerts()).every((a) => a.labels.alertname !== 'dhcp-server-missing'), { timeoutMs: 10_000 });
  }, 60_000);
});

describeWithPart('e-mail through aiosmtpd with STARTTLS and AUTH', missingPart('aiosmtpd') ?? missingPart('openssl'), () => {
  let smtp: SmtpServer;
  beforeAll(async () => {
    smtp = await new SmtpServer('nd', 'right-pass').start();
  }, 30_000);
  afterAll(() => smtp?.dispose());

  const emailConfig = (password: string) => channelsConfig(`    - { type: email, url: "smtp://nd:${password}@127.0.0.1:${smtp.port}", from: netdoctor@home.example, to: [me@home.example], ca: "${smtp.cert}" }\n`);

  it('delivers opened and resolved as plain text over STARTTLS with AUTH', async () => {
    const s = store();
    smtp.mails.length = 0;
    for (let i = 0; i < 8; i++) {
      const r = await notifyRun(s, emailConfig('right-pass'), acceptanceRun(i, T0 + i * 60_000), AbortSignal.timeout(10_000));
      expect(r.channels[0].error).toBeUndefined();
    }
    const [opened, resolved] = await waitFor('two mails at the server', () => smtp.mails.length >= 2 && smtp.mails, { timeoutMs: 10_000 });
    expect(smtp.mails).toHaveLength(2);
    expect(opened).toMatchObject({ from: 'netdoctor@home.example', to: ['me@home.example'], tls: true, auth: true });
    expect(opened.data).toContain('Subject: [home] DOWN: No DHCP server answers on eth0');
    expect(opened.data).toContain('Content-Type: text/plain');
    expect(opened.data).toContain('ssh admin@192.168.1.1 /etc/init.d/dnsmasq restart');
    expect(resolved.data).toContain('Subject: [home] RESOLVED: No DHCP server answers on eth0');
  }, 60_000);

  it('a refused login is reported without the password and the message goes out once the login works', async () => {
    const s = store();
    smtp.mails.length = 0;
    const refused = await notifyRun(s, emailConfig('wrong-pass'), acceptanceRun(1), AbortSignal.timeout(10_000));
    expect(refused.channels[0].error).toMatch(/^smtp:\/\/127\.0\.0\.1:\d+: authentication refused/);
    expect(refused.channels[0].error).not.toContain('wrong-pass');
    const fixed = await notifyRun(s, emailConfig('right-pass'), acceptanceRun(2), AbortSignal.timeout(10_000));
    expect(fixed.channels[0]).toMatchObject({ delivered: 1, pending: 0 });
    await waitFor('the mail at the server', () => smtp.mails.length >= 1, { timeoutMs: 10_000 });
    expect(smtp.mails).toHaveLength(1); // the refused attempt left nothing behind
    expect(smtp.mails[0].data).toContain('DOWN: No DHCP server answers on eth0');
  }, 60_000);
});
