import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
const cli = join(root, 'dist/cli.js');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };

function loadedBy(args: string[]): string[] {
  const out = join(mkdtempSync(join(tmpdir(), 'nd-trace-')), 'imports.txt');
  const r = spawnSync(process.execPath, ['--import', join(root, 'test/support/trace-imports.mjs'), cli, ...args], {
    env: { ...process.env, NETDOCTOR_TRACE_IMPORTS: out },
    encoding: 'utf8',
  });
  expect(r.status).toBe(0);
  return readFileSync(out, 'utf8').trim().split('\n');
}

describe('the built CLI (dist/cli.js)', () => {
  it('--version prints the package version', () => {
    expect(execFileSync(process.execPath, [cli, '--version'], { encoding: 'utf8' }).trim()).toBe(pkg.version);
  });

  it('--version loads neither ink, react nor any probe', () => {
    const urls = loadedBy(['--version']);
    expect(urls.some((u) => u.endsWith('/dist/program.js'))).toBe(true); // the trace works
    expect(urls.filter((u) => /node_modules\/(ink|react)\//.test(u))).toEqual([]);
    expect(urls.filter((u) => /\/dist\/(probes|report|diagnose|commands)\//.test(u))).toEqual([]);
  });

  it('--help of every command loads no probe and exits 0', () => {
    for (const args of [['--help'], ['check', '--help'], ['report', '--help'], ['lab', 'up', '--help']]) {
      const urls = loadedBy(args);
      expect(urls.filter((u) => /\/dist\/probes\//.test(u) || /node_modules\/ink\//.test(u)), args.join(' ')).toEqual([]);
    }
  });

  it('check --json with a bad config: exit 3, a JSON object with status unknown and the error on stdout, the message on stderr', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nd-badcfg-'));
    const file = join(dir, 'netdoctor.yaml');
    writeFileSync(file, 'site: home\ndeadline: fast\n');
    // Nothing is probed: the config fails to load before any probe is chosen.
    const r = spawnSync(process.execPath, [cli, 'check', '--json', '--no-history', '--config', file], { encoding: 'utf8' });
    expect(r.status).toBe(3);
    const doc = JSON.parse(r.stdout) as { status: string; error: { kind: string; message: string; issues: unknown[] } };
    expect(doc.status).toBe('unknown');
    expect(doc.error.kind).toBe('config');
    expect(doc.error.issues).toEqual([{ key: 'deadline', file, line: 2, value: '"fast"', message: expect.stringMatching(/is not a duration/) }]);
    expect(r.stderr).toContain(`${file}:2: deadline "fast" is not a duration`);
    expect(doc.error.message).toBe(r.stderr.split('\n')[0].replace(/^netdoctor: /, ''));
  });

  it('usage errors exit 3 with a one-line reason and a suggestion', () => {
    const r = spawnSync(process.execPath, [cli, 'chek'], { encoding: 'utf8' });
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('unknown command "chek" (did you mean "check"?)');
    const d = spawnSync(process.execPath, [cli, 'check', '--deadline', 'soon'], { encoding: 'utf8' });
    expect(d.status).toBe(3);
    expect(d.stderr).toContain('--deadline "soon" is not a duration');
    expect(d.stderr).not.toMatch(/\n\s+at /);
  });

  it('run options belong to the commands that run probes: report --deadline is an error, not ignored', () => {
    const r = spawnSync(process.execPath, [cli, 'report', '--deadline', '5s'], { encoding: 'utf8' });
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/unknown option '--deadline'/);
  });

  it('an unknown flag is a usage error (exit 3), not a crash', () => {
    const r = spawnSync(process.execPath, [cli, 'check', '--jsno'], { encoding: 'utf8' });
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/unknown option '--jsno'/);
    expect(r.stderr).toMatch(/Did you mean --json\?/);
  });
});
