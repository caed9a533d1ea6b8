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
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/diagnose/index.js';
import { buildCheckReport, type CheckReport } from '../../src/report/json.js';
import { perfdata } from '../../src/report/perfdata.js';
import { renderText } from '../../src/report/text.js';
import { exposition, inBaseUnits, writeTextfile } from '../../src/sinks/prometheus.js';
import { describeWithPart, missingPart } from '../support/notify-parts.js';
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
