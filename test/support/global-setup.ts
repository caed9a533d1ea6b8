/**
 * Once per vitest run: rebuild dist/ when src/ is newer (lab and integration
 * tests run the built CLI), and, when nobody cannot read this checkout (a clone
 * in a 0700 dir), stage what nobody runs in a world-readable temp dir.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';

const REPO = resolve(import.meta.dirname, '..', '..');
/** What a run as nobody touches, relative to the checkout (run-probe.mjs finds dist/ at ../../). */
const NOBODY_NEEDS = ['package.json', 'dist', 'node_modules', join('test', 'support', 'run-probe.mjs')];

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(path).map((e) => newestMtime(join(path, e))));
}

/** Builds unless dist/cli.js is newer than every file under src/ and the build config. */
function buildIfStale(): void {
  const cli = join(REPO, 'dist', 'cli.js');
  const sources = Math.max(newestMtime(join(REPO, 'src')), newestMtime(join(REPO, 'tsconfig.build.json')), newestMtime(join(REPO, 'package.json')));
  if (existsSync(cli) && statSync(cli).mtimeMs >= sources) return;
  console.warn(`dist/ is ${existsSync(cli) ? 'older than src/' : 'missing'}: running npm run build`);
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: REPO, stdio: 'inherit' });
}

/** Whether uid 65534 can read everything a nobody run loads from `root` (only root can ask). */
function nobodyCanRead(root: string): boolean {
  const probe = `const fs=require('fs');for(const p of ${JSON.stringify(NOBODY_NEEDS.map((p) => join(root, p)))})fs.accessSync(p,fs.constants.R_OK);fs.accessSync(${JSON.stringify(join(root, 'node_modules', 'better-sqlite3', 'package.json'))},fs.constants.R_OK)`;
  return spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', probe]).status === 0;
}

export default function setup(project: TestProject): (() => void) | undefined {
  buildIfStale();
  let root = REPO;
  let staged: string | undefined;
  if (process.getuid?.() === 0 && !nobodyCanRead(REPO)) {
    staged = mkdtempSync(join(tmpdir(), 'nd-nobody-'));
    chmodSync(staged, 0o755);
    for (const p of NOBODY_NEEDS) cpSync(join(REPO, p), join(staged, p), { recursive: true, dereference: true });
    execFileSync('chmod', ['-R', 'a+rX', staged]);
    if (!nobodyCanRead(staged)) throw new Error(`nobody cannot read ${REPO} nor the staged copy in ${staged}: is ${tmpdir()} traversable by everyone?`);
    console.warn(`nobody cannot read ${REPO}: tests that run as nobody use a copy in ${staged}`);
    root = staged;
  }
  project.provide('nobodyRoot', root);
  return staged ? () => rmSync(staged, { recursive: true, force: true }) : undefined;
}

declare module 'vitest' {
  export interface ProvidedContext {
    nobodyRoot: string;
  }
}
