/**
 * The scale lab, small (60 devices on the /22, 50 in the inventory, two DNS
 * servers), through the CLI as a user would: `check` on a healthy busy LAN
 * says OK and writes nothing to stderr — no Node warning either (issue 23:
 * MaxListenersExceededWarning with a warm neighbour cache, so twice in a row).
 * The 1,000-device curves are in the bench (bench/scale.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { scaleDevice } from '../../src/lab/scale.js';
import { run } from '../../src/lab/sys.js';
import type { HostData, SweepData } from '../../src/probes/hosts.js';
import type { Observation } from '../../src/probes/types.js';
import { describeWithLabTools } from '../support/lab.js';

const CLI = join(fileURLToPath(new URL('../..', import.meta.url)), 'dist', 'cli.js');
const PREFIX = `ts${process.pid % 1_000_000}`;
const DEVICES = 60;
const cli = (args: string[]) => run([process.execPath, CLI, ...args], { timeoutMs: 60_000 });

describeWithLabTools('scale lab: check on a busy /22', () => {
  let dir = '';
  let config = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nd-scale-'));
    const up = await cli(['lab', 'scale', 'up', '--prefix', PREFIX, '--devices', String(DEVICES)]);
    expect(up.code, up.stderr).toBe(0);
    const yaml = await cli(['lab', 'scale', 'config', '--prefix', PREFIX]);
    expect(yaml.code, yaml.stderr).toBe(0);
    config = join(dir, 'netdoctor.yaml');
    writeFileSync(config, yaml.stdout);
  }, 120_000);

  afterAll(async () => {
    await cli(['lab', 'scale', 'down', '--prefix', PREFIX]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  const check = (extra: string[] = []) => cli(['lab', 'scale', 'exec', '--prefix', PREFIX, '--', 'netdoctor', 'check', '--config', config, '--only', 'hosts,dns', ...extra]);

  it('cold and then warm neighbour cache: exit 0, "OK" on stdout, nothing at all on stderr', async () => {
    for (const round of ['cold', 'warm']) {
      const r = await check();
      expect(r.stderr, `${round} run wrote to stderr`).toBe('');
      expect(r.code, `${round} run:\n${r.stdout}`).toBe(0);
      expect(r.stdout).toMatch(/^OK: nothing wrong found/);
    }
  }, 90_000);

  it('every device is found, every inventory host at its address by its MAC, both DNS servers answer', async () => {
    const r = await check(['--json']);
    expect(r.stderr).toBe('');
    const obs = (JSON.parse(r.stdout) as { observations: Observation[] }).observations;
    const sweep = obs.find((o) => o.check === 'sweep') as Observation<SweepData>;
    expect(sweep.data!.alive.map((a) => a.ip).sort()).toEqual(Array.from({ length: DEVICES }, (_, i) => scaleDevice(i + 1).ip).sort());
    const hosts = obs.filter((o) => o.check === 'host') as Array<Observation<HostData>>;
    expect(hosts).toHaveLength(50);
    for (const h of hosts) {
      expect(h.reason, h.summary).toBe('at-expected');
      expect(h.data!.mac).toBe(scaleDevice(Number(h.subject.slice(4))).mac);
    }
    const servers = obs.filter((o) => o.probe === 'dns' && o.check === 'server');
    expect(servers.map((s) => [s.subject, s.status]).sort()).toEqual([[scaleDevice(1).ip, 'ok'], [scaleDevice(2).ip, 'ok']]);
  }, 60_000);
});
