import { describe, expect, it } from 'vitest';
import { buildCheckReport } from '../../src/report/json.js';
import { ConfigError } from '../../src/shared/errors.js';
import { channelId } from '../../src/sinks/notify/channels.js';
import { configFrom } from '../support/config.js';
import { sampleReport } from '../support/reports.js';

function problems(yaml: string): string[] {
  try {
    configFrom(yaml);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => `${i.line}: ${i.path} ${i.value ?? ''} ${i.message}`.replace(/ +/g, ' '));
    throw err;
  }
  throw new Error('the config was accepted');
}

const SECRETS = ['s3cret-smtp', 'tk_ntfy-token-123', 'bearer-xyz-789', 'hmac-key-456', 'basic-pw-000'];
const FULL = `site: home
notify:
  minInterval: 5m
  channels:
    - { type: email, url: "smtp://nd:${SECRETS[0]}@mail.home:587", from: nd@home.example, to: [me@home.example] }
    - { type: ntfy, url: https://ntfy.sh/home-net, token: ${SECRETS[1]} }
    - { type: webhook, url: https://hooks.home/nd, bearer: ${SECRETS[2]}, hmacSecret: ${SECRETS[3]} }
    - { type: alertmanager, url: http://am.home:9093, basic: { user: nd, password: ${SECRETS[4]} } }
prometheus: { textfile: /var/lib/prometheus/node-exporter }
serve: { listen: "127.0.0.1:9469", interval: 30s }
`;

describe('notify, prometheus and serve config', () => {
  it('reads every channel type, the interval and the defaults', () => {
    const c = configFrom(FULL);
    expect(c.notify.minIntervalMs).toBe(300_000);
    expect(c.notify.channels.map(channelId)).toEqual(['email:mail.home:587', 'ntfy:ntfy.sh/home-net', 'webhook:hooks.home', 'alertmanager:am.home:9093']);
    expect(c.prometheus).toEqual({ textfile: '/var/lib/prometheus/node-exporter' });
    expect(c.serve).toEqual({ listen: '127.0.0.1:9469', intervalMs: 30_000 });
    const d = configFrom('site: home\n');
    expect(d.notify).toEqual({ minIntervalMs: 600_000, channels: [] });
    expect(d.serve).toEqual({ listen: '127.0.0.1:9469', intervalMs: 60_000 });
  });

  it('names the key and line of a bad URL, an unknown type, a missing topic, a missing type and a bad listen address', () => {
    expect(problems('notify:\n  channels:\n    - type: webhook\n      url: hooks.home/nd\n')).toEqual([
      '4: notify.channels[0].url "hooks.home/nd" is not a http or https URL (expected something like https://hooks.example/netdoctor)',
    ]);
    expect(problems('notify:\n  channels:\n    - type: ntfi\n      url: https://ntfy.sh/x\n')).toEqual([
      '3: notify.channels[0].type "ntfi" is not a channel type (did you mean "ntfy"?) (expected one of webhook, ntfy, email, alertmanager)',
    ]);
    expect(problems('notify:\n  channels:\n    - type: ntfy\n      url: https://ntfy.sh/\n')).toEqual([
      '4: notify.channels[0].url "https://ntfy.sh/" has no topic (expected the topic URL, like https://ntfy.sh/my-netdoctor-topic)',
    ]);
    expect(problems('notify:\n  channels:\n    - url: https://ntfy.sh/x\n')[0]).toMatch(/^3: notify\.channels\[0\]\.type is required \(expected one of webhook/);
    expect(problems('notify:\n  channels:\n    - { type: email, url: "smtp://h:25", from: me, to: a@b.c }\n')[0]).toMatch(/^3: notify\.channels\[0\]\.from "me" is not an e-mail address/);
    expect(problems('serve:\n  listen: 9469\n')[0]).toMatch(/^2: serve\.listen/);
  });

  it('never carries a secret into the --json document', () => {
    const c = configFrom(FULL);
    const r = sampleReport(Date.now(), { broken: true });
    const json = JSON.stringify(buildCheckReport('0.0.0-test', c, { startedAt: r.startedAt, durationMs: 1, vantage: 'inside', observations: r.observations }, { status: 'critical', findings: r.findings }));
    for (const s of SECRETS) expect(json).not.toContain(s);
    expect(json).toContain('"type":"ntfy"');
    expect(json).toContain('smtp://***:***@mail.home:587');
  });
});
