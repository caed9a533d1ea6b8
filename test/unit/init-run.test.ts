/**
 * `netdoctor init` as a command: it asks before any packet is sent (and
 * only on a terminal), --yes and --no-scan answer for the user, it never
 * writes over a file without --force, and what it writes loads.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run, type InitDeps, type InitOptions, type ScanFindings } from '../../src/commands/init.js';
import { loadConfig } from '../../src/config/load.js';
import type { MachineFacts } from '../../src/config/machine.js';
import { UserError } from '../../src/shared/errors.js';

const ROOT = mkdtempSync(join(tmpdir(), 'nd-init-'));
afterAll(() => rmSync(ROOT, { recursive: true, force: true }));
let n = 0;
const freshDir = () => {
  const dir = join(ROOT, `case-${++n}`);
  mkdirSync(dir);
  return dir;
};

const MACHINE: MachineFacts = {
  defaultInterface: 'eth0',
  gateway: '192.168.1.1',
  resolvers: ['192.168.1.10'],
  interfaces: { eth0: { address: '192.168.1.50', prefix: 24, mac: 'dc:a6:32:00:00:99' } },
};

const SCAN: ScanFindings = {
  alive: [{ ip: '192.168.1.20', mac: 'b8:27:eb:00:00:20', via: 'scan' }],
  dhcp: [{ serverId: '192.168.1.1', router: ['192.168.1.1'], dns: ['192.168.1.10'] }],
  notes: [],
};

/** A machine to run init on: records every question, every scan and every line it says. */
function harness(opts: { interactive: boolean; answer?: boolean; cwd?: string }) {
  const asked: string[] = [];
  const said: string[] = [];
  let scans = 0;
  const deps: Partial<InitDeps> = {
    machine: () => MACHINE,
    neighbours: async () => [{ ip: '192.168.1.10', mac: 'b8:27:eb:00:00:10', state: 'REACHABLE' }],
    ddclient: async () => undefined,
    ask: async (q) => {
      asked.push(q);
      return opts.answer ?? false;
    },
    scan: async () => {
      scans++;
      // The question, if any, came first.
      said.push('<scan>');
      return SCAN;
    },
    interactive: opts.interactive,
    say: (line) => said.push(line),
    now: () => new Date('2026-11-25T14:00:00Z'),
    cwd: opts.cwd ?? freshDir(),
  };
  return { deps, asked, said, scans: () => scans, cwd: deps.cwd! };
}

async function init(opts: InitOptions, h: ReturnType<typeof harness>) {
  return run(opts, h.deps);
}

describe('asking before any active probe', () => {
  it('on a terminal: asks the question, and a no (the default) sends nothing', async () => {
    const h = harness({ interactive: true, answer: false });
    expect(await init({}, h)).toBe(0);
    expect(h.asked).toEqual(['Scan 192.168.1.0/24 and listen for DHCP servers on eth0 to fill in more? [y/N] ']);
    expect(h.scans()).toBe(0);
    const config = loadConfig({ configPath: join(h.cwd, 'netdoctor.yaml'), machine: MACHINE });
    expect(config.hosts.map((x) => x.ip)).toEqual(['192.168.1.10']);
    expect(config.router.dnsServer).toBeUndefined();
  });

  it('on a terminal: a yes scans, after the question, and what it found is in the file', async () => {
    const h = harness({ interactive: true, answer: true });
    await init({}, h);
    expect(h.asked).toHaveLength(1);
    expect(h.scans()).toBe(1);
    expect(h.said.indexOf('<scan>')).toBeGreaterThan(h.said.findIndex((l) => l.startsWith('Scanning 192.168.1.0/24')));
    const config = loadConfig({ configPath: join(h.cwd, 'netdoctor.yaml'), machine: MACHINE });
    expect(config.hosts.map((x) => x.ip)).toEqual(['192.168.1.10', '192.168.1.20']);
    expect(config.router.dnsServer).toBe('192.168.1.10');
  });

  it('--yes scans without asking', async () => {
    const h = harness({ interactive: true });
    await init({ yes: true }, h);
    expect(h.asked).toEqual([]);
    expect(h.scans()).toBe(1);
  });

  it('--no-scan never asks and never scans, even with --yes', async () => {
    const h = harness({ interactive: true, answer: true });
    await init({ scan: false, yes: true }, h);
    expect(h.asked).toEqual([]);
    expect(h.scans()).toBe(0);
  });

  it('without a terminal: no question, no scan, and it says how to get one', async () => {
    const h = harness({ interactive: false, answer: true });
    await init({}, h);
    expect(h.asked).toEqual([]);
    expect(h.scans()).toBe(0);
    expect(h.said).toContain('Not scanning the network (not a terminal, so nobody to ask): run with --yes to scan, or on a terminal to be asked.');
  });

  it('says what it read before anything else, and nothing it read was sent for', async () => {
    const h = harness({ interactive: false });
    await init({}, h);
    expect(h.said.slice(0, 5)).toEqual([
      'netdoctor init: what this machine already knows (read, nothing sent):',
      '  interface  eth0, 192.168.1.50/24',
      '  gateway    192.168.1.1',
      '  resolvers  192.168.1.10',
      "  neighbours 1 device in eth0's neighbour table",
    ]);
    expect(h.said.at(-2)).toBe('Wrote netdoctor.yaml: watching pi-10; more suggestions are in its comments.');
  });
});

describe('writing the file', () => {
  it('refuses to overwrite without --force, before asking anything, and leaves the file as it was', async () => {
    const h = harness({ interactive: true, answer: true });
    writeFileSync(join(h.cwd, 'netdoctor.yaml'), 'site: mine\n');
    const err = await init({}, h).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toBe('netdoctor.yaml already exists; netdoctor init does not overwrite it');
    expect((err as UserError).hint).toMatch(/--force/);
    expect(h.asked).toEqual([]);
    expect(readFileSync(join(h.cwd, 'netdoctor.yaml'), 'utf8')).toBe('site: mine\n');
  });

  it('--force replaces it, whole', async () => {
    const h = harness({ interactive: false });
    writeFileSync(join(h.cwd, 'netdoctor.yaml'), 'site: mine\n');
    await init({ force: true }, h);
    expect(readFileSync(join(h.cwd, 'netdoctor.yaml'), 'utf8')).toMatch(/^# netdoctor\.yaml — written by `netdoctor init`/);
    expect(readdirSync(h.cwd)).toEqual(['netdoctor.yaml']); // no temporary file left
  });

  it('-o writes elsewhere; a missing directory is a clear error and nothing is left behind', async () => {
    const h = harness({ interactive: false });
    await init({ output: 'conf/nd.yaml' }, h).then(
      () => expect.unreachable(),
      (e: unknown) => expect((e as Error).message).toBe(`cannot write conf/nd.yaml: the directory ${join(h.cwd, 'conf')} does not exist`),
    );
    expect(readdirSync(h.cwd)).toEqual([]);
    await init({ output: 'nd.yaml' }, h);
    expect(existsSync(join(h.cwd, 'nd.yaml'))).toBe(true);
  });
});
