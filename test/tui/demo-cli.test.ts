/**
 * The built CLI without a terminal: `netdoctor demo` prints the replayed
 * diagnosis and exits 0 (npm start must never fail), lists its scenarios,
 * says what is wrong with a bad name or speed — and neither `check` nor the
 * text demo loads ink or react.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scenario } from './support.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const CLI = join(ROOT, 'dist', 'cli.js');
const TMP = mkdtempSync(join(tmpdir(), 'nd-demo-cli-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

function cli(args: string[], opts: { trace?: boolean } = {}) {
  const trace = join(TMP, `imports-${Math.random().toString(36).slice(2)}.txt`);
  const r = spawnSync(process.execPath, [...(opts.trace ? ['--import', join(ROOT, 'test/support/trace-imports.mjs')] : []), CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NETDOCTOR_TRACE_IMPORTS: trace, NO_COLOR: '' },
    timeout: 30_000,
  });
  const imports = opts.trace ? readFileSync(trace, 'utf8').trim().split('\n') : [];
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, imports };
}

const loadsInk = (urls: string[]) => urls.filter((u) => /node_modules\/(ink|react|ink-spinner|yoga-layout)\//.test(u));

describe('netdoctor demo without a terminal', () => {
  it('prints the replayed outage as text and exits 0, without loading ink', () => {
    const r = cli(['demo'], { trace: true });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^netdoctor demo: the recorded scenario unplugged-pi \(\d{4}-\d\d-\d\d\), replayed without touching the network/);
    expect(r.stdout).toContain('CRITICAL: 1 root cause; 4 more findings follow from it');
    expect(r.stdout).toContain(`✖ ${scenario('unplugged-pi').outcome.diagnosis.findings[0].title}`);
    expect(r.stdout).not.toMatch(/\u001B\[/);
    expect(loadsInk(r.imports)).toEqual([]);
  });

  it('exits 0 whatever the scenario says (a critical outage is what a demo is for)', () => {
    expect(cli(['demo', 'healthy']).stdout).toContain('OK: nothing wrong found');
    const bad = cli(['demo', 'dns-down']);
    expect(bad.code).toBe(0);
    expect(bad.stdout).toContain('CRITICAL');
  });

  it('--list names every scenario with what it is, the default marked', () => {
    const r = cli(['demo', '--list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}unplugged-pi +The seed's outage.*\(default\)$/m);
    for (const name of ['healthy', 'reservations-lost', 'dns-down', 'rogue-dhcp']) expect(r.stdout).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
  });

  it('a scenario that does not exist is a usage error (exit 3) with a suggestion', () => {
    const r = cli(['demo', 'unpluged-pi']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('no scenario "unpluged-pi" (did you mean "unplugged-pi"?)');
    expect(r.stderr).toContain('scenarios are: ');
  });

  it('a speed that is not a positive number is a usage error', () => {
    const r = cli(['demo', '--speed', '0']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('--speed "0" is not a positive number');
  });
});

describe('ink is loaded only by the UI', () => {
  it('check (replaying a saved run) never loads ink or react', () => {
    const dir = join(ROOT, 'fixtures/scenarios/unplugged-pi');
    const r = cli(['check', '--from-json', join(dir, 'observations.json'), '--config', join(dir, 'config.yaml'), '--no-history', '--no-graphite'], { trace: true });
    expect(r.code).toBe(2);
    expect(r.imports.some((u) => u.endsWith('/dist/commands/check.js'))).toBe(true); // the trace works
    expect(loadsInk(r.imports)).toEqual([]);
  });
});
