/**
 * A real carbon-cache (Debian's graphite-carbon) on 127.0.0.1 with its own
 * temporary config, data dir and ports, for tests that check metrics land in
 * whisper. Started in the foreground as our child and stopped by its pid.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

export const CARBON_SKIP_REASON = ['/usr/bin/carbon-cache', '/usr/bin/whisper-fetch'].every((p) => existsSync(p))
  ? undefined
  : 'carbon-cache/whisper-fetch not installed (apt-get install graphite-carbon python3-whisper)';

async function listening(port: number, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((res) => {
      const s = connect(port, '127.0.0.1');
      s.on('connect', () => { s.destroy(); res(true); });
      s.on('error', () => res(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/** Whether something listens on TCP `port` inside a namespace (seen with `ss`, since we cannot connect from here). */
async function listeningIn(netns: string, port: number, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const r = spawnSync('ip', ['netns', 'exec', netns, 'ss', '-Hltn', `sport = :${port}`], { encoding: 'utf8' });
    if (r.stdout.trim()) return true;
    await new Promise((res) => setTimeout(res, 100));
  }
  return false;
}

export class Carbon {
  readonly dir: string;
  port = 0;
  /** Run inside this network namespace (a lab node), on its own loopback. */
  readonly netns?: string;
  private child?: ChildProcess;

  constructor(opts: { netns?: string } = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'nd-carbon-'));
    this.netns = opts.netns;
  }

  get url(): string {
    return `tcp://127.0.0.1:${this.port}`;
  }

  /** Starts carbon; on the same port as before when restarted. */
  async start(): Promise<void> {
    if (!this.port) this.port = await freePort();
    const d = this.dir;
    mkdirSync(join(d, 'whisper'), { recursive: true });
    mkdirSync(join(d, 'log'), { recursive: true });
    const [pickle, query] = [await freePort(), await freePort()];
    writeFileSync(join(d, 'carbon.conf'), [
      '[cache]', `STORAGE_DIR = ${d}/`, `LOCAL_DATA_DIR = ${d}/whisper/`, `CONF_DIR = ${d}/`, `LOG_DIR = ${d}/log/`, `PID_DIR = ${d}/`,
      'DATABASE = whisper', 'MAX_CACHE_SIZE = inf', 'MAX_UPDATES_PER_SECOND = inf', 'MAX_CREATES_PER_MINUTE = inf',
      'LINE_RECEIVER_INTERFACE = 127.0.0.1', `LINE_RECEIVER_PORT = ${this.port}`, 'ENABLE_UDP_LISTENER = False',
      'PICKLE_RECEIVER_INTERFACE = 127.0.0.1', `PICKLE_RECEIVER_PORT = ${pickle}`,
      'CACHE_QUERY_INTERFACE = 127.0.0.1', `CACHE_QUERY_PORT = ${query}`, 'WHISPER_AUTOFLUSH = True', '',
    ].join('\n'));
    // One-second slots for a day: every run of a test lands in its own slot.
    writeFileSync(join(d, 'storage-schemas.conf'), '[all]\npattern = .*\nretentions = 1s:1d\n');
    const argv = ['carbon-cache', `--config=${d}/carbon.conf`, `--pidfile=${d}/carbon.pid`, `--logdir=${d}/log`, '--nodaemon', 'start'];
    // `ip netns exec` execs the command in place, so the child's pid is carbon's.
    const [cmd, ...args] = this.netns ? ['ip', 'netns', 'exec', this.netns, ...argv] : argv;
    this.child = spawn(cmd, args, { stdio: 'ignore' });
    const ready = this.netns ? await listeningIn(this.netns, this.port, 15_000) : await listening(this.port, 15_000);
    if (!ready) {
      await this.stop();
      throw new Error(`carbon-cache did not listen on 127.0.0.1:${this.port} (logs in ${d}/log)`);
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }

  /** Points stored for a metric path in [from, until], as [epochSeconds, value], skipping empty slots. */
  fetch(path: string, from: number, until: number): Array<[number, number]> {
    const file = join(this.dir, 'whisper', ...path.split('.')) + '.wsp';
    if (!existsSync(file)) return [];
    const r = spawnSync('whisper-fetch', [`--from=${from - 1}`, `--until=${until}`, file], { encoding: 'utf8' });
    return r.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/))
      .filter(([, v]) => v !== undefined && v !== 'None')
      .map(([t, v]) => [Number(t), Number(v)] as [number, number]);
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
