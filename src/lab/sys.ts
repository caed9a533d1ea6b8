/**
 * The lab's only doors to the system: running commands (always argument
 * arrays, never a shell string), starting long-lived servers with their pid
 * recorded, and stopping exactly those pids again.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { EnvironmentError } from '../shared/errors.js';
import { sleep } from '../shared/wait.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Exit code reported when a command overran its time limit (as coreutils `timeout`). */
export const TIMED_OUT = 124;

/** Runs a command to completion; never throws for a non-zero exit (see {@link must}). */
export function run(argv: readonly string[], opts: { timeoutMs?: number; input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), {
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: opts.env,
      cwd: opts.cwd,
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, opts.timeoutMs)
      : undefined;
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === 'ENOENT') reject(new EnvironmentError(`${argv[0]} is not installed (needed by the lab)`, LAB_PACKAGES_HINT));
      else reject(err);
    });
    if (opts.input !== undefined) {
      child.stdin!.on('error', () => {}); // the command may exit without reading its input
      child.stdin!.end(opts.input);
    }
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) resolve({ code: TIMED_OUT, stdout, stderr: `${stderr}${stderr && !stderr.endsWith('\n') ? '\n' : ''}timed out after ${opts.timeoutMs} ms\n` });
      else resolve({ code: code ?? 128 + signalNumber(signal), stdout, stderr });
    });
  });
}

function signalNumber(signal: NodeJS.Signals | null): number {
  const table: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return (signal && table[signal]) ?? 1;
}

export const LAB_PACKAGES_HINT = 'The lab needs root and the Debian packages iproute2 iptables dnsmasq-base busybox openvpn openssl iputils-ping miniupnpd nftables.';

export class CommandError extends Error {
  override name = 'CommandError';
  constructor(readonly argv: readonly string[], readonly result: RunResult) {
    super(`\`${argv.join(' ')}\` failed (exit ${result.code}): ${(result.stderr || result.stdout).trim().split('\n').slice(-3).join(' / ')}`);
  }
}

/** Runs a command that must succeed. */
export async function must(argv: readonly string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<string> {
  const r = await run(argv, { timeoutMs: opts.timeoutMs ?? 20_000, input: opts.input });
  if (r.code !== 0) throw new CommandError(argv, r);
  return r.stdout;
}

/**
 * A process the lab started, identified by pid AND its start time (field 22
 * of /proc/<pid>/stat), so a pid the kernel has since handed to some other
 * program is never signalled.
 */
export interface ProcessRecord {
  pid: number;
  startTime: string;
  /** What it is, for `lab status` and error messages: `router/dnsmasq`. */
  name: string;
  log?: string;
}

export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19];
  } catch {
    return undefined;
  }
}

function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/** Still the same process and not a zombie. */
export function isAlive(rec: Pick<ProcessRecord, 'pid' | 'startTime'>): boolean {
  const st = processState(rec.pid);
  return st !== undefined && st !== 'Z' && st !== 'X' && processStartTime(rec.pid) === rec.startTime;
}

/**
 * Starts a long-lived server inside a namespace, detached from us so it
 * outlives `netdoctor lab up`. `ip netns exec` execs the command in place,
 * so the pid we get is the server's own — which is why every server here is
 * told to stay in the foreground rather than fork.
 */
export function startDaemon(ns: string, argv: readonly string[], name: string, logFile: string): ProcessRecord {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], { detached: true, stdio: ['ignore', fd, fd] });
    child.on('error', () => {}); // reported through the readiness check and the log instead
    child.unref();
    if (child.pid === undefined) throw new EnvironmentError(`could not start ${name} (${argv[0]})`, LAB_PACKAGES_HINT);
    return { pid: child.pid, startTime: processStartTime(child.pid) ?? '', name, log: logFile };
  } finally {
    closeSync(fd);
  }
}

/** Sends SIGTERM, then SIGKILL to what is left after `graceMs`. Only live, same-start-time pids are touched. */
export async function stopProcesses(recs: ReadonlyArray<Pick<ProcessRecord, 'pid' | 'startTime'>>, graceMs = 2000): Promise<void> {
  const live = recs.filter(isAlive);
  for (const r of live) signal(r.pid, 'SIGTERM');
  const until = Date.now() + graceMs;
  while (live.some(isAlive) && Date.now() < until) await sleep(25);
  for (const r of live) if (isAlive(r)) signal(r.pid, 'SIGKILL');
  const hardUntil = Date.now() + 2000;
  while (live.some(isAlive) && Date.now() < hardUntil) await sleep(25);
}

/** The synchronous version, for exit and signal handlers that cannot wait for a promise. */
export function stopProcessesSync(recs: ReadonlyArray<Pick<ProcessRecord, 'pid' | 'startTime'>>): void {
  const live = recs.filter(isAlive);
  for (const r of live) signal(r.pid, 'SIGTERM');
  const until = Date.now() + 1500;
  while (live.some(isAlive) && Date.now() < until) busyWait(20);
  for (const r of live) if (isAlive(r)) signal(r.pid, 'SIGKILL');
}

function busyWait(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** Absolute path of an executable on PATH, or undefined. */
export function which(cmd: string, path = process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'): string | undefined {
  for (const dir of [...path.split(':'), '/usr/sbin', '/sbin']) {
    if (dir && existsSync(`${dir}/${cmd}`)) return `${dir}/${cmd}`;
  }
  return undefined;
}
