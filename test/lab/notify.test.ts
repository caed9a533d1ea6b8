/**
 * The acceptance story with real probes: `check --json` in the lab's client
 * (healthy → unplugged-pi for 5 checks → healed for 2 checks), each report
 * handed to the notification sink on this machine's loopback, which delivers
 * to a webhook/ntfy receiver, Debian's Alertmanager and aiosmtpd. Exactly one
 * opened and one resolved per channel, naming the DHCP root cause and its
 * first fix; the Alertmanager alert is there during the fault and ends after.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { CheckReport } from '../../src/report/json.js';
import { waitFor } from '../../src/shared/wait.js';
import { notifyRun } from '../../src/sinks/notify/deliver.js';
import type { NotificationMessage } from '../../src/sinks/notify/types.js';
import { describeLab, type TestLab } from '../support/lab.js';
import { Alertmanager, describeWithPart, memoryNotifyStore, missingPart, notifyConfig, Receiver, SmtpServer } from '../support/notify-parts.js';

const missing = missingPart('alertmanager') ?? missingPart('aiosmtpd') ?? missingPart('openssl');

const body = (lab: () => TestLab) => {
  const rx = new Receiver();
  let am: Alertmanager;
  let smtp: SmtpServer;
  beforeAll(async () => {
    await rx.start();
    am = await new Alertmanager(`${rx.url}/am`).start();
    smtp = await new SmtpServer('nd', 'lab-pass').start();
  }, 60_000);
  afterAll(async () => {
    await am?.stop();
    await smtp?.dispose();
    await rx.stop();
  });

  it('healthy → unplugged-pi ×5 → healed ×2: one opened and one resolved per channel; the alert comes and goes', async () => {
    const config = notifyConfig(`    - { type: webhook, url: "${rx.url}/hook" }
    - { type: ntfy, url: "${rx.url}/lab-net" }
    - { type: email, url: "smtp://nd:lab-pass@127.0.0.1:${smtp.port}", from: nd@lab.example, to: me@lab.example, ca: "${smtp.cert}" }
    - { type: alertmanager, url: "${am.url}" }
`);
    const store = memoryNotifyStore();
    const statuses: string[] = [];
    const step = async () => {
      const r = await lab().runNetdoctor('client', ['check', '--json', '--no-history'], { timeoutMs: 40_000 });
      const report = JSON.parse(r.stdout) as CheckReport;
      statuses.push(report.status);
      const out = await notifyRun(store, config, report, AbortSignal.timeout(5000));
      expect(out.channels.filter((c) => c.error)).toEqual([]);
    };

    await step();
    await lab().fault('unplugged-pi');
    try {
      for (let i = 0; i < 5; i++) await step();
      const alert = await waitFor('the DHCP alert in Alertmanager', async () => (await am.alerts()).find((a) => a.labels.alertname === 'dhcp-server-missing'), { timeoutMs: 10_000 });
      expect(alert.labels.site).toBe('lab'); // the site of the run, from the lab's netdoctor.yaml
    } finally {
      await lab().heal();
    }
    for (let i = 0; i < 2; i++) await step();
    expect(statuses.slice(0, 6)).toEqual(['ok', 'critical', 'critical', 'critical', 'critical', 'critical']);

    const hooks = rx.on('/hook').map((h) => JSON.parse(h.body) as NotificationMessage);
    expect(hooks.map((m) => m.kind)).toEqual(['opened', 'resolved']);
    const root = hooks[0].causes[0];
    expect(root.id).toBe('dhcp-server-missing');
    expect(root.fix?.title).toBeTruthy();
    expect(rx.on('/').map((n) => (JSON.parse(n.body) as { title: string }).title)).toEqual([
      `[lab] DOWN: ${root.title}`, `[lab] RESOLVED: ${root.title}`,
    ]);
    const mails = await waitFor('two mails', () => smtp.mails.length >= 2 && smtp.mails, { timeoutMs: 10_000 });
    expect(mails).toHaveLength(2);
    expect(mails[0].data).toContain(`Fix: ${root.fix!.title}`);
    await waitFor('the alert to end', async () => (await am.alerts()).every((a) => a.labels.alertname !== 'dhcp-server-missing'), { timeoutMs: 10_000 });
    await waitFor('Alertmanager\'s resolved notification', () => rx.on('/am').some((r) => (JSON.parse(r.body) as { status: string }).status === 'resolved'), { timeoutMs: 15_000 });
  }, 300_000);
};

const NAME = 'notifications from real runs in the lab';
// Without its receivers it is skipped (or fails under NETDOCTOR_LAB=required) like any lab test without the lab.
if (missing) describeWithPart(NAME, missing, () => it('needs its receivers', () => {}));
else describeLab(NAME, body);
