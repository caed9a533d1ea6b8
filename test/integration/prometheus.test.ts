/**
 * The Prometheus exposition of real recorded runs passes `promtool check
 * metrics` (Debian's prometheus), holds one netdoctor_finding series per
 * finding and every observation value, and the textfile for node_exporter
 * is replaced atomically. The Nagios perfdata of the same runs follows the
 * monitoring-plugins syntax.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diagnose } from '../../src/diagnose/index.js';
import { buildCheckReport, type CheckReport } from '../../src/report/json.js';
import { perfdata } from '../../src/report/perfdata.js';
import { renderText } from '../../src/report/text.js';
import { METRICS_CONTENT_TYPE, startMetricsServer, type MetricsServer } from '../../src/sinks/metrics-server.js';
import { exposition, inBaseUnits, writeTextfile } from '../../src/sinks/prometheus.js';
import { waitFor } from '../../src/shared/wait.js';
import { describeWithPart, missingPart } from '../support/notify-parts.js';
import { Prometheus, PROMETHEUS_SKIP_REASON } from '../support/prometheus.js';
import { recordedScenario } from '../support/scenarios.js';

function scenarioReport(name: string): CheckReport {
  const { config, run } = recordedScenario(name);
  return buildCheckReport('0.0.0-test', config, run, diagnose(run.observations, config));
}

describeWithPart('Prometheus exposition (promtool)', missingPart('promtool'), () => {
  for (const name of ['healthy', 'unplugged-pi', 'ddns-stale-and-dns-down']) {
    it(`${name}: promtool check metrics passes; one finding series per finding; every observation value`, async () => {
      const report = scenarioReport(name);
      const text = await exposition(report);
      const lint = spawnSync('/usr/bin/promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect(lint.status, `${lint.stdout}${lint.stderr}`).toBe(0);
      expect(`${lint.stdout}${lint.stderr}`.trim()).toBe('');

      const series = text.split('\n').filter((l) => l && !l.startsWith('#'));
      expect(series.filter((l) => l.startsWith('netdoctor_finding{'))).toHaveLength(report.findings.length);
      const values = report.observations.flatMap((o) => Object.keys(o.values).map((k) => ({ o, k })));
      for (const { o, k } of values) {
        const { name: metric, value } = inBaseUnits(k, o.values[k]);
        expect(series, `${o.id} ${k}`).toContain(`netdoctor_${o.probe}_${metric}{check="${o.check}",subject="${o.subject}",site="${report.site}",vantage="${report.vantage}"} ${value}`);
      }
      const status = { ok: 0, warning: 1, critical: 2, unknown: 3 }[report.status];
      expect(series).toContain(`netdoctor_status{site="${report.site}",vantage="${report.vantage}"} ${status}`);
      expect(series.some((l) => l.startsWith('netdoctor_last_run_timestamp_seconds{'))).toBe(true);
      expect(series.some((l) => l.startsWith('netdoctor_run_duration_seconds{'))).toBe(true);
    });
  }

  it('unplugged-pi: the DHCP root cause is a root series with its labels', async () => {
    const text = await exposition(scenarioReport('unplugged-pi'));
    expect(text).toMatch(/^netdoctor_finding\{id="dhcp-server-missing",severity="critical",root="true",[^}]*iface="[^"]+"[^}]*\} 1$/m);
  });
});

describe('node_exporter textfile', () => {
  it('writes netdoctor.prom whole, replacing the last one, leaving no temporary file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nd-textfile-'));
    await writeTextfile(dir, scenarioReport('unplugged-pi'));
    expect(readFileSync(join(dir, 'netdoctor.prom'), 'utf8')).toContain('netdoctor_status{site="lab",vantage="inside"} 2');
    await writeTextfile(dir, scenarioReport('healthy'));
    expect(readFileSync(join(dir, 'netdoctor.prom'), 'utf8')).toContain('netdoctor_status{site="lab",vantage="inside"} 0');
    expect(readdirSync(dir)).toEqual(['netdoctor.prom']);
  });
});

describe('Nagios perfdata', () => {
  // monitoring-plugins: 'label'=value[UOM];[warn];[crit];[min];[max], UOM one of s ms us % B KB MB TB c or none.
  const PERF = /^('[^'=]+'|[^'=\s]+)=-?\d+(\.\d+)?(s|ms|us|%|B|KB|MB|TB|c)?(;[^;\s]*){0,4}$/;

  for (const name of ['healthy', 'unplugged-pi', 'vpn-down']) {
    it(`${name}: the status line ends with valid perfdata for every value, when asked`, () => {
      const report = scenarioReport(name);
      const line = renderText(report, { perfdata: true }).split('\n')[0];
      const [status, perf] = line.split(' | ');
      expect(status).toBe(renderText(report).split('\n')[0]);
      const items = perf.split(' ');
      for (const item of items) expect(item).toMatch(PERF);
      const valueCount = report.observations.reduce((n, o) => n + Object.values(o.values).filter(Number.isFinite).length, 0);
      expect(items).toHaveLength(4 + valueCount);
      expect(items[0]).toBe(`duration=${report.durationMs / 1000}s;;;0`);
      expect(perf).toBe(perfdata(report));
    });
  }
});

describe('the metrics server (serve\'s /metrics and /healthz)', () => {
  it('serves nothing before the first run, then the last run; /healthz turns stale', async () => {
    const server = await startMetricsServer('127.0.0.1:0', { staleAfterMs: 60_000 });
    try {
      const base = `http://${server.address}`;
      expect((await fetch(`${base}/metrics`)).status).toBe(503);
      expect((await fetch(`${base}/healthz`)).status).toBe(503);
      server.update(scenarioReport('unplugged-pi'));
      const metrics = await fetch(`${base}/metrics`);
      expect(metrics.headers.get('content-type')).toBe(METRICS_CONTENT_TYPE);
      expect(await metrics.text()).toContain('netdoctor_status{site="lab",vantage="inside"} 2');
      const health = await fetch(`${base}/healthz`);
      expect([health.status, await health.text()]).toEqual([200, expect.stringMatching(/^ok: last run finished \d+ms ago\n$/)]);
      server.update(scenarioReport('healthy'), Date.now() - 120_000);
      expect((await fetch(`${base}/healthz`)).status).toBe(503);
      expect(await (await fetch(`${base}/metrics`)).text()).toContain('netdoctor_status{site="lab",vantage="inside"} 0');
      expect((await fetch(`${base}/other`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});

describeWithPart('Prometheus scraping the metrics server', PROMETHEUS_SKIP_REASON, () => {
  let server: MetricsServer;
  let prom: Prometheus;
  beforeAll(async () => {
    server = await startMetricsServer('127.0.0.1:0', { staleAfterMs: 60_000 });
    prom = await new Prometheus([server.address]).start();
  }, 60_000);
  afterAll(async () => {
    await prom?.stop();
    await server?.close();
  });

  it('the DHCP root cause is queryable during the fault and gone after healing', async () => {
    server.update(scenarioReport('unplugged-pi'));
    const during = await waitFor('netdoctor_finding in Prometheus', async () => {
      const r = await prom.query('netdoctor_finding{root="true"}');
      return r.length > 0 && r;
    }, { timeoutMs: 30_000, detail: () => prom.log.slice(-1500) });
    expect(during.map((s) => s.metric.id)).toEqual(['dhcp-server-missing']);
    expect(during[0].metric).toMatchObject({ site: 'lab', severity: 'critical', job: 'netdoctor' });
    server.update(scenarioReport('healthy'));
    await waitFor('the finding to go stale', async () => (await prom.query('netdoctor_finding')).length === 0, { timeoutMs: 30_000 });
    expect(await prom.query('netdoctor_status')).toEqual([expect.objectContaining({ value: [expect.any(Number), '0'] })]);
  }, 90_000);
});
