/**
 * A run saved with `check --json` carries the config it was judged against,
 * so replaying it on another machine (no config there, or a different one)
 * gives the same diagnosis.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { run as checkCommand } from '../../src/commands/check.js';
import { run as diagnoseCommand } from '../../src/commands/diagnose.js';
import { diagnose } from '../../src/diagnose/index.js';
import { buildCheckReport, readSavedRun } from '../../src/report/json.js';
import { recordedScenario } from '../support/scenarios.js';

describe('replaying a saved run elsewhere', () => {
  it('uses the config the run carries, with secrets left out', async () => {
    const { config, run: saved } = recordedScenario('unplugged-pi', '\ngraphite: { url: "tcp://graphite.home:2003" }\n');
    config.ddns.publicIp = ['https://user:pw@ip.example.net/?token=abc'];
    const report = buildCheckReport('0.0.0', config, saved, diagnose(saved.observations, config));
    expect(JSON.stringify(report.config)).not.toMatch(/pw@|token=abc/);
    expect(report.config).not.toHaveProperty('history');

    const dir = mkdtempSync(join(tmpdir(), 'nd-replay-'));
    const file = join(dir, 'incident.json');
    writeFileSync(file, JSON.stringify(report));
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const cwd = process.cwd();
    try {
      process.chdir(dir); // no netdoctor.yaml here: only the run's own config can explain it
      const code = await diagnoseCommand({ fromJson: file, json: true });
      const replayed = JSON.parse(out.mock.calls.map((c) => String(c[0])).join('')) as typeof report;
      expect(code).toBe(2);
      expect(replayed.findings.filter((f) => f.root).map((f) => f.key)).toEqual(report.findings.filter((f) => f.root).map((f) => f.key));
      expect(replayed.findings.filter((f) => f.root).map((f) => f.id)).toEqual(['dhcp-server-missing']);
    } finally {
      process.chdir(cwd);
      out.mockRestore();
    }
  });

  it('a carried config with a null section is not trusted: the replay uses the local config instead of crashing', async () => {
    const { config, run: saved } = recordedScenario('healthy');
    const report = buildCheckReport('0.0.0', config, saved, diagnose(saved.observations, config));
    const dir = mkdtempSync(join(tmpdir(), 'nd-replay-'));
    const file = join(dir, 'incident.json');
    writeFileSync(file, JSON.stringify({ ...report, config: { ...report.config, router: null } }));
    expect(readSavedRun(file).config).toBeUndefined();
  });

  it('check --from-json --quiet prints nothing when the replayed run is healthy, and the report when it is not', async () => {
    const replay = (name: string) => new URL(`../../fixtures/scenarios/${name}/observations.json`, import.meta.url).pathname;
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await checkCommand({ fromJson: replay('healthy'), quiet: true })).toBe(0);
      expect(out).not.toHaveBeenCalled();
      expect(await checkCommand({ fromJson: replay('dns-down'), quiet: true })).toBe(2);
      expect(out.mock.calls.map((c) => String(c[0])).join('')).toMatch(/^CRITICAL/);
    } finally {
      out.mockRestore();
    }
  });
});
