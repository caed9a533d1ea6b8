/**
 * The lab leaves nothing behind: after `down`, after a test that throws
 * midway, after SIGTERM of the test process, and (via the orphan reaper)
 * after a SIGKILL. Two labs run side by side without touching each other.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Lab } from '../../src/lab/lab.js';
import { isAlive, processStartTime, run } from '../../src/lab/sys.js';
import { sleep } from '../../src/shared/wait.js';
import { ALL_NODES } from '../../src/lab/topology.js';
import { describeLab, describeWithLabTools, reapOrphanedLabs } from '../support/lab.js';

type Pid = { pid: number; startTime: string };

/** Every process of a lab: the recorded servers and whatever else runs in its namespaces. */
async function labPids(lab: Lab): Promise<Pid[]> {
  const pids: number[] = (await lab.status()).processes.map((p) => p.pid);
  for (const node of ALL_NODES) {
    const r = await run(['ip', 'netns', 'pids', lab.ns(node)]);
    if (r.code === 0) pids.push(...r.stdout.split('\n').map(Number).filter((n) => n > 0));
  }
  return [...new Set(pids)].map((pid) => ({ pid, startTime: processStartTime(pid) ?? '' })).filter((p) => p.startTime);
}

/** What is left of a lab on this machine; empty when it is completely gone. */
async function leftovers(prefix: string, pids: Pid[] = []): Promise<string[]> {
  const left: string[] = [];
  const nss = (await run(['ip', 'netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0]);
  left.push(...nss.filter((n) => n.startsWith(`${prefix}-`)).map((n) => `namespace ${n}`));
  left.push(...readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.includes(`/run/netns/${prefix}-`)).map((l) => `mount ${l.split(' ')[1]}`));
  if (existsSync(`/run/netdoctor-lab/${prefix}`)) left.push(`state dir /run/netdoctor-lab/${prefix}`);
  if (existsSync('/etc/netns')) left.push(...readdirSync('/etc/netns').filter((d) => d.startsWith(`${prefix}-`)).map((d) => `/etc/netns/${d}`));
  left.push(...pids.filter(isAlive).map((p) => `process ${p.pid}`));
  // The lab's links live only inside its namespaces; none may show up in the host's.
  const hostLinks = (await run(['ip', '-o', 'link', 'show'])).stdout;
  for (const name of ['lan-pidns', 'lan-pivpn', 'lan-client', 'lan-rogue', 'r-wan', 'cgn0', 'br-wan']) {
    if (new RegExp(`^\\d+: ${name}[@:]`, 'm').test(hostLinks)) left.push(`host link ${name}`);
  }
  return left;
}

/** The answer, or '' (dig prints its errors on stdout, after a ';;'). */
const dig = async (lab: Lab, name: string) =>
  (await lab.exec('client', ['dig', '+short', '+time=1', '+tries=2', '@192.168.1.10', name])).stdout.split('\n').filter((l) => l && !l.startsWith(';')).join(' ');

const own = (n: number) => `t${process.pid}n${90 + n}`;

describeLab('lab: lifecycle', (harnessLab) => {
  const made: string[] = [];
  afterAll(async () => {
    for (const p of made) if (Lab.exists(p)) await Lab.destroy(p);
  });

  it('runs two labs at once, independently, and down leaves nothing of either', async () => {
    const [a, b] = [own(1), own(2)];
    made.push(a, b);
    const [labA, labB] = await Promise.all([Lab.up(a), Lab.up(b)]);
    expect(await dig(labA, 'pi-vpn.home')).toBe('192.168.1.20');
    expect(await dig(labB, 'pi-vpn.home')).toBe('192.168.1.20');
    await labA.fault('dns-down');
    expect(await dig(labA, 'pi-vpn.home')).toBe('');
    expect(await dig(labB, 'pi-vpn.home')).toBe('192.168.1.20');

    const pidsA = await labPids(labA);
    expect(pidsA.length).toBeGreaterThanOrEqual(8);
    await labA.down();
    expect(await leftovers(a, pidsA)).toEqual([]);
    // B did not notice.
    expect(await dig(labB, 'example.com')).toBe('203.0.113.80');
    expect((await labB.status()).processes.every((p) => p.running)).toBe(true);

    await labB.fault('cgnat', 'rogue-dhcp'); // the nodes that exist only under faults go too
    const pidsB = await labPids(labB);
    await labB.down();
    expect(await leftovers(b, pidsB)).toEqual([]);
    // And the harness's own lab, a third one, ran through all of it untouched.
    expect(await dig(harnessLab().lab, 'pi-vpn.home')).toBe('192.168.1.20');
  });

  it('tears down an existing lab of the same prefix before building it again, and starts with --fault', async () => {
    const p = own(3);
    made.push(p);
    const first = await Lab.up(p);
    const oldPids = await labPids(first);
    const second = await Lab.up(p, { faults: ['vpn-down'] });
    expect(oldPids.filter(isAlive)).toEqual([]);
    expect(second.faults).toEqual(['vpn-down']);
    expect((await second.listening('pi-vpn', 'udp')).filter((port) => port === 1194 || port === 1195)).toEqual([]);
    expect(await dig(second, 'pi-dns.home')).toBe('192.168.1.10');
    const pids = await labPids(second);
    await Lab.destroy(p);
    expect(await leftovers(p, pids)).toEqual([]);
  });
});

/**
 * A nested vitest run of a tiny test file that uses the harness, so the
 * harness's own cleanup paths are what is tested: afterAll after a throw,
 * the SIGTERM handler, and the reaper for a worker killed outright.
 */
describeWithLabTools('lab harness cleanup (nested vitest)', () => {
  const repo = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
  const dir = join(repo, 'test-artifacts', `lab-fixture-${process.pid}`);
  const rel = `test-artifacts/lab-fixture-${process.pid}`;
  beforeAll(() => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'vitest.config.mjs'), `export default { test: { root: ${JSON.stringify(repo)}, include: [${JSON.stringify(`${rel}/*.test.ts`)}], pool: 'forks', testTimeout: 120000, hookTimeout: 120000 } };\n`);
    writeFileSync(join(dir, 'fixture.test.ts'), `
  import { existsSync, renameSync, writeFileSync } from 'node:fs';
  import { it } from 'vitest';
  import { describeLab } from '../../test/support/lab.js';
  describeLab('fixture', (lab) => {
    it('does its work, then ' + process.env.FIXTURE_MODE, async () => {
      // Written aside and renamed, so the outer test never reads half a file.
      writeFileSync(process.env.FIXTURE_OUT + '.tmp', JSON.stringify({ prefix: lab().prefix, worker: process.pid }));
      renameSync(process.env.FIXTURE_OUT + '.tmp', process.env.FIXTURE_OUT!);
      // The outer test lists the lab's processes, then says go.
      while (!existsSync(process.env.FIXTURE_OUT + '.go')) await new Promise((r) => setTimeout(r, 50));
      if (process.env.FIXTURE_MODE === 'throws') throw new Error('boom, midway');
      await new Promise((r) => setTimeout(r, 100000));
    });
  });
  `);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function nested(mode: 'throws' | 'sigterm' | 'sigkill') {
    const out = join(dir, `${mode}.json`);
    // Its own process group, so that if this test fails midway the nested vitest AND its worker can be
    // killed together: killing vitest alone would orphan the worker, which holds a lab.
    const child = spawn(process.execPath, [join(repo, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--config', join(dir, 'vitest.config.mjs')], {
      cwd: repo, env: { ...process.env, FIXTURE_MODE: mode, FIXTURE_OUT: out, NETDOCTOR_LAB: '' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number>((res) => child.on('close', (code) => res(code ?? 1)));
    try {
      let info: { prefix: string; worker: number } | undefined;
      let pids: Pid[] = [];
      for (let i = 0; i < 300 && !info; i++) {
        if (existsSync(out)) {
          info = JSON.parse(readFileSync(out, 'utf8'));
          pids = await labPids(Lab.open(info!.prefix));
        } else await sleep(100);
        if (child.exitCode !== null) break;
      }
      if (!info) throw new Error(`the fixture never reported its lab:\n${output}`);
      writeFileSync(`${out}.go`, '');
      if (mode === 'sigterm') process.kill(info.worker, 'SIGTERM');
      if (mode === 'sigkill') process.kill(info.worker, 'SIGKILL');
      // The whole group, as in the catch below: vitest alone would leave its worker, and the worker's lab.
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }, 30_000);
      const code = await exited;
      clearTimeout(timer);
      return { ...info, pids, code, output };
    } catch (err) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
      await exited;
      await reapOrphanedLabs();
      throw err;
    }
  }

  it('takes the lab down when a test throws midway', { timeout: 90_000 }, async () => {
    const r = await nested('throws');
    expect(r.code, r.output).not.toBe(0);
    expect(r.output).toContain('boom, midway');
    expect(r.pids.length).toBeGreaterThanOrEqual(8);
    expect(await leftovers(r.prefix, r.pids)).toEqual([]);
  });

  it('takes the lab down when the test process gets SIGTERM', { timeout: 90_000 }, async () => {
    const r = await nested('sigterm');
    expect(await leftovers(r.prefix, r.pids)).toEqual([]);
  });

  it('reaps the lab of a test process killed outright, on the next run', { timeout: 90_000 }, async () => {
    const r = await nested('sigkill');
    expect((await leftovers(r.prefix, r.pids)).length).toBeGreaterThan(0);
    await reapOrphanedLabs();
    expect(await leftovers(r.prefix, r.pids)).toEqual([]);
  });
});
