/**
 * `netdoctor lab …` through the built CLI (run `npx tsc -p tsconfig.build.json`
 * first): the whole cycle on one prefix, exit codes, and the messages a user
 * sees when something is wrong.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { Lab } from '../../src/lab/lab.js';
import { describeWithLabTools } from '../support/lab.js';

const CLI = join(fileURLToPath(new URL('../..', import.meta.url)), 'dist', 'cli.js');

function netdoctor(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

describe('netdoctor lab (no root needed)', () => {
  it('prints a config that loads and describes the lab', async () => {
    const r = await netdoctor('lab', 'config', '--prefix', 'docs');
    expect(r.code).toBe(0);
    const machine = { defaultInterface: 'eth0', gateway: '192.168.1.1', resolvers: ['192.168.1.10'], interfaces: {} };
    const config = parseConfigText(r.stdout, { file: 'lab.yaml', machine, env: { HOME: '/nonexistent' } });
    expect(config.hosts.map((h) => h.name)).toEqual(['pi-dns', 'pi-vpn']);
    expect(config.history.path).toBe('/run/netdoctor-lab/docs/history.db');
  });

  it('rejects a bad prefix, naming what would be valid', async () => {
    const r = await netdoctor('lab', 'status', '--prefix', 'My_Lab');
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('--prefix "My_Lab" is not a lab prefix (expected a lower-case letter then up to 11 letters or digits');
  });
});

describeWithLabTools('netdoctor lab (the whole cycle)', () => {
  const prefix = `t${process.pid}n80`;
  afterAll(async () => {
    if (Lab.exists(prefix)) await Lab.destroy(prefix);
  });

  it('up --fault, status, fault, exec, heal, down', async () => {
    const up = await netdoctor('lab', 'up', '--prefix', prefix, '--fault', 'dns-down');
    expect(up.code, up.stderr).toBe(0);
    expect(up.stderr).toMatch(new RegExp(`lab ${prefix}: up in \\d+\\.\\d s`));
    expect(up.stdout).toContain(`${prefix}-pi-dns  eth0 192.168.1.10/24`);
    expect(up.stdout).toContain('faults: dns-down');

    const bad = await netdoctor('lab', 'fault', '--prefix', prefix, 'dns-dwn');
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain('"dns-dwn" is not a lab fault (did you mean "dns-down"?)');

    expect((await netdoctor('lab', 'fault', '--prefix', prefix, 'vpn-down')).code).toBe(0);
    const st = await netdoctor('lab', 'status', '--prefix', prefix, '--json');
    expect(st.code).toBe(0);
    const status = JSON.parse(st.stdout);
    expect(status.faults).toEqual(['dns-down', 'vpn-down']);
    expect(status.processes.map((p: { name: string }) => p.name)).not.toContain('pi-vpn/openvpn');

    const exec = await netdoctor('lab', 'exec', '--prefix', prefix, 'client', '--', 'sh', '-c', 'ip -4 -o addr show dev eth0; exit 7');
    expect(exec.code).toBe(7);
    const self = await netdoctor('lab', 'exec', '--prefix', prefix, 'client', '--', 'netdoctor', '--version');
    expect(self.code).toBe(0);
    const badNode = await netdoctor('lab', 'exec', '--prefix', prefix, 'clinet', '--', 'true');
    expect(badNode.code).toBe(3);
    expect(badNode.stderr).toContain('"clinet" is not a lab node (did you mean "client"?)');

    expect((await netdoctor('lab', 'heal', '--prefix', prefix)).code).toBe(0);
    const healed = JSON.parse((await netdoctor('lab', 'status', '--prefix', prefix, '--json')).stdout);
    expect(healed.faults).toEqual([]);
    expect(healed.processes).toHaveLength(10); // with router/miniupnpd

    expect((await netdoctor('lab', 'down', '--prefix', prefix)).code).toBe(0);
    expect(Lab.exists(prefix)).toBe(false);
    const gone = await netdoctor('lab', 'status', '--prefix', prefix);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain(`no lab with prefix "${prefix}"`);
    const heal = await netdoctor('lab', 'heal', '--prefix', prefix);
    expect(heal.code).toBe(3);
    expect(heal.stderr).toContain(`Build one with \`sudo netdoctor lab up --prefix ${prefix}\``);
  });
});
