/**
 * `netdoctor lab …`: a thin layer over src/lab/lab.ts. Progress goes to
 * stderr, results to stdout, and every failure is a message with what to do.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ExitCode } from '../shared/exit-codes.js';
import { EnvironmentError, UsageError } from '../shared/errors.js';
import { didYouMean } from '../shared/suggest.js';
import { FAULTS, FAULT_NAMES, checkFaultNames } from '../lab/faults.js';
import { LAB_PACKAGES_HINT } from '../lab/sys.js';
import { ALL_NODES, isLabNode, type LabNode } from '../lab/topology.js';
import type { Lab as LabClass, LabStatus } from '../lab/lab.js';

export interface LabCommandOptions {
  sub: 'up' | 'down' | 'status' | 'fault' | 'heal' | 'exec' | 'config' | 'scale';
  /** Positional arguments: fault names, or the node and the command for `exec`. */
  args?: string[];
  prefix?: string;
  /** `up --fault a,b` */
  fault?: string[];
  json?: boolean;
  /** `scale up --devices N --inventory M` */
  devices?: string;
  inventory?: string;
}

const err = (line: string) => process.stderr.write(`${line}\n`);

export async function run(opts: Record<string, unknown>): Promise<number> {
  const o = opts as unknown as LabCommandOptions;
  const prefix = o.prefix ?? 'nd';
  const args = o.args ?? [];
  const { Lab, checkPrefix, labUnavailableReason } = await import('../lab/lab.js');
  checkPrefix(prefix);

  if (o.sub === 'scale') return runScale(prefix, args, o, labUnavailableReason);

  // `config` describes the lab's address plan; it needs neither root nor a running lab.
  if (o.sub === 'config') {
    const stateDir = (await import('../lab/lab.js')).stateDirOf(prefix);
    process.stdout.write((await import('../lab/config-yaml.js')).labConfigYaml(stateDir));
    return ExitCode.ok;
  }

  const reason = labUnavailableReason();
  if (reason) throw new EnvironmentError(`netdoctor lab: ${reason}`, `${LAB_PACKAGES_HINT} Run it as: sudo netdoctor lab ${o.sub}`);

  switch (o.sub) {
    case 'up': {
      const faults = checkFaultNames(o.fault ?? []);
      // Ctrl-C while building: take down what exists so far, synchronously, so nothing half-built is left.
      const interrupted = (sig: NodeJS.Signals) => {
        err(`\nlab ${prefix}: interrupted; taking the half-built lab down`);
        try {
          Lab.open(prefix).downSync();
        } catch {
          // nothing recorded yet
        }
        process.exit(sig === 'SIGINT' ? 130 : 143);
      };
      process.once('SIGINT', interrupted);
      process.once('SIGTERM', interrupted);
      let lab: LabClass;
      try {
        lab = await Lab.up(prefix, { faults, log: err });
      } finally {
        process.off('SIGINT', interrupted);
        process.off('SIGTERM', interrupted);
      }
      const st = await lab.status();
      process.stdout.write(formatStatus(st));
      err(`\nTry: sudo netdoctor lab exec ${prefixFlag(prefix)}client -- ping -c1 192.168.1.10`);
      err(`     sudo netdoctor lab fault ${prefixFlag(prefix)}unplugged-pi        (faults: ${FAULT_NAMES.join(', ')})`);
      return ExitCode.ok;
    }
    case 'down': {
      if (!Lab.exists(prefix)) {
        err(`netdoctor lab: no lab with prefix ${JSON.stringify(prefix)}: nothing to take down`);
        return ExitCode.ok;
      }
      await Lab.destroy(prefix);
      err(`lab ${prefix}: down (processes stopped, namespaces and ${(await import('../lab/lab.js')).stateDirOf(prefix)} removed)`);
      return ExitCode.ok;
    }
    case 'status': {
      if (!Lab.exists(prefix)) {
        if (o.json) process.stdout.write(`${JSON.stringify({ prefix, up: false, labs: Lab.list() })}\n`);
        else err(`netdoctor lab: no lab with prefix ${JSON.stringify(prefix)}${otherLabs(Lab.list())}`);
        return ExitCode.warning;
      }
      const st = await Lab.open(prefix).status();
      process.stdout.write(o.json ? `${JSON.stringify(st, null, 2)}\n` : formatStatus(st));
      return st.up && st.processes.every((p) => p.running) ? ExitCode.ok : ExitCode.warning;
    }
    case 'fault': {
      if (args.length === 0) throw new UsageError(`name a fault: ${FAULT_NAMES.join(', ')}`);
      const names = checkFaultNames(args);
      const lab = Lab.open(prefix);
      await lab.fault(...names);
      err(`lab ${prefix}: faults now ${lab.faults.join(', ')}`);
      for (const n of names) err(`  ${n}: ${FAULTS[n]}`);
      return ExitCode.ok;
    }
    case 'heal': {
      const lab = Lab.open(prefix);
      const was = lab.faults;
      await lab.heal();
      err(`lab ${prefix}: healthy again${was.length ? ` (undid ${was.join(', ')})` : ''}`);
      return ExitCode.ok;
    }
    case 'exec': {
      const [node, ...argv] = args;
      if (!node || !isLabNode(node)) {
        throw new UsageError(`${node === undefined ? 'no node given' : `${JSON.stringify(node)} is not a lab node${didYouMean(node, ALL_NODES)}`}; nodes are: ${ALL_NODES.join(', ')}`);
      }
      if (argv.length === 0) throw new UsageError('no command given', `Put it after --, e.g. netdoctor lab exec ${node} -- ip addr`);
      return execInteractive(Lab.open(prefix).ns(node), argv);
    }
    default:
      throw new UsageError(`unknown lab command ${JSON.stringify(o.sub)}`);
  }
}

/** `lab scale up|down|config|exec`: the /22 with N devices (src/lab/scale.ts). */
async function runScale(prefix: string, args: string[], o: LabCommandOptions, unavailable: () => string | undefined): Promise<number> {
  const { ScaleLab, checkScaleOptions } = await import('../lab/scale.js');
  const [action, ...argv] = args;
  const whole = (flag: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) throw new UsageError(`${flag} ${JSON.stringify(v)}: a whole number`);
    return Number(v);
  };
  const opened = () => {
    const lab = ScaleLab.open(prefix);
    if (!lab) throw new UsageError(`no scale lab with prefix ${JSON.stringify(prefix)}`, `Build one: sudo netdoctor lab scale up --prefix ${prefix} --devices 100`);
    return lab;
  };
  switch (action) {
    case 'config':
      process.stdout.write(opened().configYaml());
      return ExitCode.ok;
    case 'up': {
      const reason = unavailable();
      if (reason) throw new EnvironmentError(`netdoctor lab scale: ${reason}`, LAB_PACKAGES_HINT);
      const lab = await ScaleLab.up(prefix, checkScaleOptions({ devices: whole('--devices', o.devices), inventory: whole('--inventory', o.inventory) }));
      err(`scale lab ${prefix}: ${lab.devices} devices up on 10.44.0.0/22; config: sudo netdoctor lab scale config --prefix ${prefix}`);
      return ExitCode.ok;
    }
    case 'down':
      await ScaleLab.destroy(prefix);
      err(`scale lab ${prefix}: down`);
      return ExitCode.ok;
    case 'exec':
      if (argv.length === 0) throw new UsageError('no command given', `Put it after --, e.g. netdoctor lab scale exec --prefix ${prefix} -- ip neigh`);
      return execInteractive(opened().client, argv);
    default:
      throw new UsageError(`${action === undefined ? 'no scale action given' : `unknown scale action ${JSON.stringify(action)}`}: up, down, config or exec`);
  }
}

const prefixFlag = (prefix: string) => (prefix === 'nd' ? '' : `--prefix ${prefix} `);

function otherLabs(labs: string[]): string {
  return labs.length ? ` (labs here: ${labs.join(', ')}; pick one with --prefix)` : ' (build one with `sudo netdoctor lab up`)';
}

/**
 * Runs with the terminal attached (so `exec client -- sh` works) and returns
 * the command's exit code. `netdoctor` itself is this very CLI, so it works
 * inside a node even when it is not on root's PATH.
 */
function execInteractive(ns: string, argv: string[]): Promise<number> {
  const cmd = argv[0] === 'netdoctor' ? [process.execPath, fileURLToPath(new URL('../cli.js', import.meta.url)), ...argv.slice(1)] : argv;
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, ...cmd], { stdio: 'inherit' });
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? (signal === 'SIGINT' ? 130 : 128 + 15));
    });
  });
}

export function formatStatus(st: LabStatus): string {
  const lines = [`lab ${st.prefix}: ${st.up ? 'up' : 'partly down'}; faults: ${st.faults.length ? st.faults.join(', ') : 'none (healthy)'}`, ''];
  const width = Math.max(...st.nodes.map((n) => n.namespace.length));
  for (const n of st.nodes) {
    const addrs = n.addresses.map((a) => `${a.iface} ${a.cidr}${a.state === 'down' ? ' (down)' : ''}`).join(', ');
    lines.push(`  ${n.namespace.padEnd(width)}  ${n.exists ? addrs || '(no address)' : 'missing'}`);
  }
  lines.push('', '  servers:');
  for (const p of st.processes) lines.push(`    ${p.name.padEnd(24)} pid ${String(p.pid).padEnd(8)} ${p.running ? 'running' : 'NOT RUNNING'}`);
  lines.push('', `  state, configs and logs: ${st.stateDir}`, '');
  return lines.join('\n');
}
