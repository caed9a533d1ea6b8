/**
 * The vitest harness for lab tests: each `describeLab` block gets its own lab
 * (unique prefix `t<pid>n<k>`), built in beforeAll and torn down in afterAll
 * — also when a test throws, and on SIGINT/SIGTERM or exit of the test
 * process. Only the processes the lab started are stopped, by pid.
 *
 *   describeLab('dns probe', (lab) => {
 *     it('answers', async () => {
 *       const obs = await lab().runProbe('client', 'dns');
 *       …
 *     });
 *   });
 *
 * Without root or the Debian packages the block is skipped with one console
 * line saying why; with NETDOCTOR_LAB=required it fails with that reason.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, it } from 'vitest';
import { LabGuest } from '../../src/lab/guest.js';
import { Lab, labUnavailableReason } from '../../src/lab/lab.js';
import { run, isAlive, processStartTime, which } from '../../src/lab/sys.js';
import { LAN, type LabNode } from '../../src/lab/topology.js';
import type { Observation } from '../../src/probes/types.js';
import { nobodyRunProbe } from './nobody.js';

export type { LabNode } from '../../src/lab/topology.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const RUN_PROBE = join(REPO, 'test', 'support', 'run-probe.mjs');

/**
 * Tools the lab tests use beyond the lab itself: to check the lab with plain tools (dig, nmap), to
 * render a report (chromium), to receive metrics (carbon). Missing ones skip the lab tests like a
 * missing lab package does, saying which, rather than failing them one by one.
 */
const LAB_TEST_TOOLS: Array<[tool: string, pkg: string]> = [
  ['dig', 'dnsutils'],
  ['nmap', 'nmap'],
  ['chromium', 'chromium'],
  ['carbon-cache', 'graphite-carbon'],
  ['whisper-fetch', 'python3-whisper'],
  ['setpriv', 'util-linux'],
  ['tmux', 'tmux'],
];

function missingTestTools(): string | undefined {
  const missing = LAB_TEST_TOOLS.filter(([tool]) => !which(tool));
  if (missing.length === 0) return undefined;
  return `the lab tests also need ${missing.map(([t]) => t).join(', ')} (apt-get install ${[...new Set(missing.map(([, p]) => p))].join(' ')})`;
}

/** Why lab tests cannot run here (not root, missing commands), or undefined. */
export const LAB_SKIP_REASON: string | undefined = labUnavailableReason() ?? missingTestTools();

export interface RunOutput {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TestLab {
  prefix: string;
  stateDir: string;
  /** Namespace name of a node. */
  ns(node: LabNode): string;
  /** Runs a command inside a node (default time limit 30 s; exit 124 when it overran). */
  exec(node: LabNode, argv: string[], opts?: { timeoutMs?: number; input?: string }): Promise<RunOutput>;
  fault(...names: string[]): Promise<void>;
  heal(): Promise<void>;
  /** The lab's netdoctor.yaml (as `netdoctor lab config`). */
  configYaml(): string;
  /** The tls-auth OpenVPN instance on pi-vpn; `direction` is the client's (the server uses 0). */
  tlsAuth: { keyFile: string; direction: 0 | 1; digest: string; port: number };
  /** The router dnsmasq's lease file. */
  leaseFile: string;
  /**
   * Runs one probe from the BUILT dist/ (run `npx tsc -p tsconfig.build.json` first) inside a node
   * and returns its observations. `configYaml` defaults to the lab's config, `vantage` to inside.
   */
  runProbe(node: LabNode, probe: string, opts?: RunProbeOptions): Promise<Observation[]>;
  /** Same, for a probe module that is not (yet) in dist/probes: an absolute path to a .js/.mjs file. */
  runProbeModule(node: LabNode, modulePath: string, opts?: RunProbeOptions): Promise<Observation[]>;
  /**
   * `node dist/cli.js …args` inside a node. It runs in `<stateDir>/work`, which holds the lab's
   * netdoctor.yaml (so `check` picks it up without --config), with HOME and XDG dirs inside the
   * state dir so nothing touches the real user's files.
   */
  runNetdoctor(node: LabNode, args: string[], opts?: { timeoutMs?: number; env?: Record<string, string> }): Promise<RunOutput>;
  /** Writes a config file (readable from every node) and returns its path. */
  writeConfig(yaml: string, name?: string): string;
  /** IPv4 addresses on a node's interface (default eth0). */
  addresses(node: LabNode, iface?: string): Promise<string[]>;
  /** The underlying lab, for anything the harness does not wrap. */
  lab: Lab;
}

export interface RunProbeOptions {
  configYaml?: string;
  deadlineMs?: number;
  options?: Record<string, unknown>;
  vantage?: 'inside' | 'outside';
  /** As nobody (uid/gid 65534, no groups, no capabilities to inherit): what an unprivileged user's run sees. */
  asNobody?: boolean;
}

/** `setpriv` to nobody with nothing a root parent could pass on. */
const AS_NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all'];

// ------------------------------------------------------------------ cleanup

const live = new Set<Lab>();
let handlersInstalled = false;

function installCleanupHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const downAll = () => {
    for (const lab of live) {
      try {
        lab.downSync();
      } catch {
        // keep going: the other labs must still come down
      }
    }
    live.clear();
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      downAll();
      // Then die of the same signal as if we had never listened (vitest's workers stub process.exit).
      process.kill(process.pid, sig);
    });
  }
  process.once('exit', downAll);
}

const HARNESS_PREFIX = /^t(\d+)n\d+$/;

/**
 * Labs left by a test process that was killed outright (SIGKILL, OOM) before
 * its handlers ran: their owner is gone, so nobody else will take them down.
 */
export async function reapOrphanedLabs(): Promise<void> {
  for (const prefix of Lab.list()) {
    if (!HARNESS_PREFIX.test(prefix)) continue;
    let owner: number;
    try {
      owner = Lab.open(prefix).ownerPid;
    } catch {
      continue;
    }
    const start = processStartTime(owner);
    if (owner > 0 && owner !== process.pid && (start === undefined || !isAlive({ pid: owner, startTime: start }))) {
      await Lab.destroy(prefix).catch(() => {});
    }
  }
}

// ------------------------------------------------------------------ processes in a node

export interface StartedInNode {
  child: ChildProcess;
  /** Resolves when it exits, with all it printed and how long it ran (ms). */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number }>;
  stdout: () => string;
  stderr: () => string;
}

/** What tests started in nodes and may still run: describeLab kills them by pid after each test. */
const startedInNodes = new Set<ChildProcess>();

/**
 * Starts a command inside a lab node as this process's own child (`ip netns
 * exec` becomes the command: the child's pid is the command's), collecting
 * its output. Whatever still runs after the test is killed by pid.
 */
export function startInNode(lab: TestLab, node: LabNode, argv: string[], opts: { cwd?: string } = {}): StartedInNode {
  const t0 = performance.now();
  const child = spawn('ip', ['netns', 'exec', lab.ns(node), ...argv], { stdio: ['ignore', 'pipe', 'pipe'], cwd: opts.cwd });
  startedInNodes.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Awaited<StartedInNode['done']>>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr, ms: performance.now() - t0 })));
  return { child, done, stdout: () => stdout, stderr: () => stderr };
}

function killStartedInNodes(): void {
  for (const c of startedInNodes) if (c.pid && c.exitCode === null && c.signalCode === null) process.kill(c.pid, 'SIGKILL');
  startedInNodes.clear();
}

// ------------------------------------------------------------------ describeLab

let labCount = 0;
let skipAnnounced = false;

/** When the lab cannot run: a failing block under NETDOCTOR_LAB=required, else a skipped one (and one line saying why). */
function describeUnavailable(name: string, body: () => void): void {
  if (process.env.NETDOCTOR_LAB === 'required') {
    describe(name, () => {
      it('needs the lab (NETDOCTOR_LAB=required)', () => {
        throw new Error(`lab tests are required (NETDOCTOR_LAB=required) but cannot run here: ${LAB_SKIP_REASON}`);
      });
    });
    return;
  }
  if (!skipAnnounced) {
    skipAnnounced = true;
    console.warn(`lab tests skipped: ${LAB_SKIP_REASON} (set NETDOCTOR_LAB=required to make this a failure)`);
  }
  describe.skip(name, body);
}

/**
 * A describe block that needs what the lab needs (root, the packages) but
 * builds its labs itself, e.g. through the CLI. Same skip/required rules.
 */
export function describeWithLabTools(name: string, fn: () => void): void {
  if (LAB_SKIP_REASON) describeUnavailable(name, fn);
  else describe(name, fn);
}

export function describeLab(name: string, fn: (lab: () => TestLab) => void, opts: { faults?: string[] } = {}): void {
  if (LAB_SKIP_REASON) {
    describeUnavailable(name, () => fn(() => {
      throw new Error(`lab tests skipped: ${LAB_SKIP_REASON}`);
    }));
    return;
  }

  const prefix = `t${process.pid}n${++labCount}`;
  describe(name, () => {
    let testLab: TestLab | undefined;
    afterEach(killStartedInNodes);
    beforeAll(async () => {
      installCleanupHandlers();
      await reapOrphanedLabs();
      const lab = await Lab.up(prefix, { faults: opts.faults });
      live.add(lab);
      testLab = wrap(lab);
    }, 120_000);
    afterAll(async () => {
      const lab = testLab?.lab ?? (Lab.exists(prefix) ? Lab.open(prefix) : undefined);
      testLab = undefined;
      if (!lab) return;
      await lab.down();
      live.delete(lab);
    }, 60_000);
    fn(() => {
      if (!testLab) throw new Error(`lab ${prefix} is not up (its beforeAll failed; see the error above)`);
      return testLab;
    });
  });
}

function wrap(lab: Lab): TestLab {
  const guest = new LabGuest(lab);

  const probeRun = async (node: LabNode, request: Record<string, unknown>, opts: RunProbeOptions): Promise<Observation[]> => {
    const deadlineMs = opts.deadlineMs ?? 10_000;
    const body = JSON.stringify({ ...request, configYaml: opts.configYaml ?? lab.configYaml(), deadlineMs, options: opts.options ?? {}, vantage: opts.vantage ?? 'inside' });
    const r = await guest.exec(node, [...(opts.asNobody ? AS_NOBODY : []), process.execPath, opts.asNobody ? nobodyRunProbe() : RUN_PROBE], { input: body, timeoutMs: deadlineMs + 20_000 });
    const who = opts.asNobody ? ' as nobody' : '';
    if (r.code !== 0) throw new Error(`run-probe in ${node}${who} failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
    try {
      return JSON.parse(r.stdout) as Observation[];
    } catch {
      throw new Error(`run-probe in ${node} printed no JSON: ${r.stdout.slice(0, 500)} ${r.stderr.slice(0, 500)}`);
    }
  };

  return {
    prefix: lab.prefix,
    stateDir: lab.stateDir,
    lab,
    ns: (node) => lab.ns(node),
    exec: (node, argv, opts = {}) => lab.exec(node, argv, opts),
    fault: (...names) => lab.fault(...names),
    heal: () => lab.heal(),
    configYaml: () => lab.configYaml(),
    tlsAuth: (({ keyFile, direction, digest, port }) => ({ keyFile, direction, digest, port }))(lab.tlsAuth),
    leaseFile: lab.leaseFile,
    runProbe: (node, probe, opts = {}) => probeRun(node, { probe }, opts),
    runProbeModule: (node, modulePath, opts = {}) => probeRun(node, { module: modulePath }, opts),
    runNetdoctor: (node, args, opts = {}) => guest.runNetdoctor(node, args, opts),
    writeConfig: (yaml, name) => guest.writeConfig(yaml, name),
    addresses: (node, iface) => lab.addresses(node, iface),
  };
}

/** Runs a command in the host namespace (for checks such as `ip netns list`; never for traffic). */
export const hostRun = run;

/** The MAC of the router's LAN side (its bridge), read from the router node. */
export async function routerMac(lab: TestLab): Promise<string> {
  const r = await lab.exec('router', ['ip', '-j', 'link', 'show', LAN.bridge]);
  return (JSON.parse(r.stdout) as Array<{ address: string }>)[0].address;
}

// ------------------------------------------------------------------ OpenVPN hard reset

/**
 * Sent from inside a node with `node -e`: one P_CONTROL_HARD_RESET_CLIENT_V2
 * (opcode 7, key id 0 → 0x38; 8-byte session id; empty ack array; packet id 0),
 * then prints the first reply as `<addr>:<port> <hex>` or `no reply`.
 */
const OPENVPN_RESET_SCRIPT = `
import dgram from 'node:dgram';
const [host, port, sid, waitMs] = process.argv.slice(1);
const s = dgram.createSocket('udp4');
const packet = Buffer.concat([Buffer.from([0x38]), Buffer.from(sid, 'hex'), Buffer.from([0]), Buffer.alloc(4)]);
const timer = setTimeout(() => { console.log('no reply'); s.close(); }, Number(waitMs));
s.on('message', (m, r) => { console.log(r.address + ':' + r.port + ' ' + m.toString('hex')); clearTimeout(timer); s.close(); });
s.send(packet, Number(port), host);
`;

export interface OpenvpnResetReply {
  /** `address:port` the reply came from. */
  from: string;
  /** opcode (first byte >> 3): 8 is P_CONTROL_HARD_RESET_SERVER_V2. */
  opcode: number;
  serverSession: string;
  /** Packet ids the server acknowledged. */
  acked: number[];
  /** Our session id, echoed in the ack (hex). */
  ackedSession?: string;
}

/** Sends an unsigned OpenVPN hard reset from `node` to host:port; the parsed first reply, or undefined after `waitMs`. */
export async function openvpnHardReset(lab: TestLab, node: LabNode, host: string, port: number, opts: { sessionId?: string; waitMs?: number } = {}): Promise<OpenvpnResetReply | undefined> {
  const sid = opts.sessionId ?? '0102030405060708';
  const r = await lab.exec(node, [process.execPath, '--input-type=module', '-e', OPENVPN_RESET_SCRIPT, host, String(port), sid, String(opts.waitMs ?? 3000)], { timeoutMs: (opts.waitMs ?? 3000) + 15_000 });
  if (r.code !== 0) throw new Error(`the OpenVPN reset sender failed in ${node}: ${r.stderr}`);
  const line = r.stdout.trim();
  if (line === 'no reply') return undefined;
  const [from, hex] = line.split(' ');
  const b = Buffer.from(hex, 'hex');
  const serverSession = b.subarray(1, 9).toString('hex');
  const n = b[9];
  const acked = Array.from({ length: n }, (_, i) => b.readUInt32BE(10 + 4 * i));
  const ackedSession = n > 0 ? b.subarray(10 + 4 * n, 18 + 4 * n).toString('hex') : undefined;
  return { from, opcode: b[0] >> 3, serverSession, acked, ackedSession };
}
