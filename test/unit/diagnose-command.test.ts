/**
 * `netdoctor diagnose FILE`: replays a saved run through the engine, prints
 * text or --json, exits with the status's code; in a scenario directory it
 * uses the config.yaml beside the run unless --config says otherwise.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadScenario, run, scenarioConfigFor, scenarioNames, scenariosDir } from '../../src/commands/diagnose.js';
import { diagnose } from '../../src/diagnose/index.js';
import { exitCodeFor, type RunStatus } from '../../src/shared/exit-codes.js';
import { UserError } from '../../src/shared/errors.js';

const DIR = new URL('../../fixtures/scenarios/', import.meta.url).pathname;
const SCENARIOS = readdirSync(DIR).filter((d) => existsSync(join(DIR, d, 'expected.json'))).sort();
const tmp = mkdtempSync(join(tmpdir(), 'nd-diagnose-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let stdout = '';
beforeEach(() => {
  stdout = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
});
afterEach(() => vi.restoreAllMocks());

describe('netdoctor diagnose', () => {
  it.each(SCENARIOS)('%s: exits with the code of the expected status', async (name) => {
    const expected = JSON.parse(readFileSync(join(DIR, name, 'expected.json'), 'utf8')) as { status: RunStatus };
    const code = await run({ fromJson: join(DIR, name, 'observations.json') });
    expect(code).toBe(exitCodeFor(expected.status));
    expect(stdout.split('\n')[0]).toMatch(new RegExp(`^${expected.status.toUpperCase()}: `)); // the status line first, for Nagios
  });

  it('--json prints the check --json document with the diagnosis in it', async () => {
    const code = await run({ fromJson: join(DIR, 'unplugged-pi', 'observations.json'), json: true });
    expect(code).toBe(2);
    const doc = JSON.parse(stdout);
    expect(Object.keys(doc).sort()).toEqual(['config', 'durationMs', 'findings', 'netdoctor', 'observations', 'site', 'startedAt', 'status', 'vantage']);
    expect(doc.status).toBe('critical');
    expect(doc.findings[0]).toMatchObject({ id: 'dhcp-server-missing', key: 'dhcp-server-missing{iface=eth0}', root: true, severity: 'critical' });
    for (const f of doc.findings) {
      for (const k of ['id', 'key', 'severity', 'root', 'title', 'explanation', 'labels', 'evidence', 'explains', 'suppressedBy', 'fixes']) expect(f).toHaveProperty(k);
    }
  });

  it('uses the config.yaml beside a run in a scenario directory, unless --config is given', async () => {
    const dir = join(tmp, 'my-incident');
    cpSync(join(DIR, 'dns-down'), dir, { recursive: true });
    writeFileSync(join(dir, 'config.yaml'), readFileSync(join(dir, 'config.yaml'), 'utf8').replace(/^site: .*$/m, 'site: cabin'));
    expect(scenarioConfigFor(join(dir, 'observations.json'))).toBe(join(dir, 'config.yaml'));
    await run({ fromJson: join(dir, 'observations.json') });
    expect(stdout.split('\n')[1]).toContain(' · cabin · ');

    stdout = '';
    const other = join(tmp, 'other.yaml');
    writeFileSync(other, readFileSync(join(DIR, 'dns-down', 'config.yaml'), 'utf8').replace(/^site: .*$/m, 'site: office'));
    await run({ fromJson: join(dir, 'observations.json'), config: other });
    expect(stdout.split('\n')[1]).toContain(' · office · ');
    // Without expected.json beside it, a directory is not a scenario.
    expect(scenarioConfigFor(join(tmp, 'observations.json'))).toBeUndefined();
  });

  it('replays a saved check --json document the same way', async () => {
    await run({ fromJson: join(DIR, 'reservations-lost', 'observations.json'), json: true });
    const saved = join(tmp, 'reservations-lost');
    cpSync(join(DIR, 'reservations-lost'), saved, { recursive: true });
    writeFileSync(join(saved, 'observations.json'), stdout);
    const first = JSON.parse(stdout);
    stdout = '';
    await run({ fromJson: join(saved, 'observations.json'), json: true });
    expect(JSON.parse(stdout).findings).toEqual(first.findings);
  });

  it('--verbose lists every observation', async () => {
    await run({ fromJson: join(DIR, 'healthy', 'observations.json'), verbose: true });
    expect(stdout).toMatch(/Observations \(\d+\):/);
    expect(stdout).toContain('ok    dhcp  192.168.1.1');
  });

  it('a file that is not there is a clear error, not a crash', async () => {
    await expect(run({ fromJson: join(tmp, 'nope.json') })).rejects.toThrow(UserError);
    await expect(run({ fromJson: join(tmp, 'nope.json') })).rejects.toThrow(/cannot read .*nope\.json: ENOENT/);
  });

  it('finds the scenarios for demo and the benchmark, and says which exist when a name is wrong', () => {
    expect(scenariosDir()).toBe(DIR.replace(/\/$/, ''));
    expect(scenarioNames()).toEqual(SCENARIOS);
    const s = loadScenario('unplugged-pi');
    expect(diagnose(s.run.observations, s.config).findings[0].id).toBe('dhcp-server-missing');
    expect(() => loadScenario('unpluged-pi')).toThrow(/no scenario "unpluged-pi" \(did you mean "unplugged-pi"\?\); scenarios are: /);
  });
});
