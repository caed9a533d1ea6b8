/**
 * Real checks in the lab send their metrics to a real carbon-cache running in
 * the client node: they land in whisper with the run's values and timestamp;
 * runs made while carbon is down are spooled and delivered by the next run,
 * none lost, none duplicated.
 */
import { expect, it } from 'vitest';
import type { CheckReport } from '../../src/report/json.js';
import { metricLines } from '../../src/sinks/graphite.js';
import { waitFor } from '../../src/shared/wait.js';
import { Carbon } from '../support/carbon.js';
import { checkReportSchema, type CheckJson } from '../support/check-json.js';
import { describeLab, type TestLab } from '../support/lab.js';

describeLab('Graphite export from real checks', (lab) => {
  let carbon: Carbon;

  async function check(l: TestLab, configFile: string): Promise<{ json: CheckJson; stderr: string; code: number }> {
    // Only the fast probes: this test is about the metrics of a run, not about DHCP timing.
    // Whisper keeps one point per second: make sure no two runs start in the same second.
    await new Promise((r) => setTimeout(r, 1000));
    const r = await l.runNetdoctor('client', ['check', '--json', '--config', configFile, '--skip', 'dhcp'], { timeoutMs: 30_000 });
    return { json: checkReportSchema.parse(JSON.parse(r.stdout)), stderr: r.stderr, code: r.code };
  }

  const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

  it('metrics of a run land in whisper; an outage spools them and the next run delivers all', async () => {
    const l = lab();
    carbon = new Carbon({ netns: l.ns('client') });
    try {
      await carbon.start();
      const config = l.writeConfig(`${l.configYaml()}\ngraphite: { url: "tcp://127.0.0.1:${carbon.port}", prefix: nd.lab }\n`, 'graphite.yaml');

      const first = await check(l, config);
      expect(first.code).toBe(0);
      const ts = seconds(first.json.startedAt);
      const latency = first.json.observations.find((o) => o.id === 'dns:server:192.168.1.10')!.values.latency_ms;
      await waitFor('the first run\'s duration in whisper', () => carbon.fetch('nd.lab.check.duration_ms', ts, ts).length > 0, { timeoutMs: 15_000 });
      expect(carbon.fetch('nd.lab.check.duration_ms', ts, ts)).toEqual([[ts, first.json.durationMs]]);
      expect(carbon.fetch('nd.lab.check.status', ts, ts)).toEqual([[ts, 0]]);
      expect(carbon.fetch('nd.lab.dns.192_168_1_10.latency_ms', ts, ts)).toEqual([[ts, latency]]);

      await carbon.stop();
      const spooled = [await check(l, config), await check(l, config)];
      for (const r of spooled) {
        expect(r.code).toBe(0); // a Graphite outage changes nothing about the verdict
        expect(r.stderr).toMatch(/Graphite unreachable .* metrics spooled for the next run/);
      }
      await carbon.start();
      const last = await check(l, config);
      expect(last.stderr).toBe('');

      const runs = [first, ...spooled, last].map((r) => r.json);
      const [from, until] = [seconds(runs[0].startedAt), seconds(runs[3].startedAt)];
      await waitFor('all four runs\' durations in whisper', () => carbon.fetch('nd.lab.check.duration_ms', from, until).length >= 4, {
        timeoutMs: 15_000,
        detail: () => `whisper holds ${JSON.stringify(carbon.fetch('nd.lab.check.duration_ms', from, until))}`,
      });
      // One point per run, at the run's own timestamp, with the run's own value: none lost, none duplicated.
      expect(carbon.fetch('nd.lab.check.duration_ms', from, until)).toEqual(runs.map((r) => [seconds(r.startedAt), r.durationMs]));

      // And not only the duration: every metric line each run made (observations, status, finding counts) is in whisper
      // at that run's second with that run's value — the spooled runs' included.
      const expected = new Map<string, Array<[number, number]>>();
      for (const run of runs) {
        for (const line of metricLines(run as unknown as CheckReport, 'nd.lab')) {
          const [path, value, ts] = line.split(' ');
          expected.set(path, [...(expected.get(path) ?? []), [Number(ts), Number(value)]]);
        }
      }
      expect(expected.size).toBeGreaterThan(20);
      const stored = () => new Map([...expected.keys()].map((path) => [path, carbon.fetch(path, from, until)]));
      const differing = (got: Map<string, Array<[number, number]>>) => [...expected].filter(([path, points]) => JSON.stringify(got.get(path)) !== JSON.stringify(points)).map(([path]) => path);
      await waitFor('every metric of every run in whisper', () => differing(stored()).length === 0, {
        timeoutMs: 20_000,
        intervalMs: 1000,
        detail: () => `differing: ${differing(stored()).slice(0, 5).join(', ')}`,
      });
    } finally {
      await carbon.dispose();
    }
  });
});
