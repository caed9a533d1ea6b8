/**
 * The README's install path (issue 21, item 1), run the way a newcomer runs
 * it: a fresh clone in a `mktemp -d`, built, `npm install -g .` into a private
 * prefix (never the machine's global one), then `netdoctor --version` by name
 * from another directory. `npm ci` is stood in for by a link to this
 * checkout's node_modules, so the test needs no registry.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const tmp = mkdtempSync(join(tmpdir(), 'nd-install-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

it('a fresh clone, built and installed with npm install -g ., gives a netdoctor on PATH whose --version works anywhere', () => {
  const clone = join(tmp, 'netdoctor');
  const prefix = join(tmp, 'prefix');
  execFileSync('git', ['clone', '-q', root, clone]);
  symlinkSync(join(root, 'node_modules'), join(clone, 'node_modules'));
  const sh = (cmd: string, args: string[], cwd: string) => {
    const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_prefix: prefix, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' } });
    expect(r.status, `${cmd} ${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r.stdout;
  };
  sh('npm', ['run', 'build', '--silent'], clone);
  sh('npm', ['install', '-g', '.'], clone);
  const bin = join(prefix, 'bin', 'netdoctor');
  expect(existsSync(bin)).toBe(true);
  expect(readlinkSync(bin)).toMatch(/node_modules\/netdoctor\/dist\/cli\.js$/);
  const elsewhere = mkdtempSync(join(tmp, 'elsewhere-'));
  const r = spawnSync('netdoctor', ['--version'], { cwd: elsewhere, encoding: 'utf8', env: { ...process.env, PATH: `${join(prefix, 'bin')}${delimiter}${process.env.PATH ?? ''}` } });
  expect([r.status, r.stdout.trim()]).toEqual([0, pkg.version]);
}, 180_000);
