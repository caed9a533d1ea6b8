/**
 * Debian's Prometheus on 127.0.0.1 with its own config, port and storage,
 * scraping given targets every second; started by the test, stopped by pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../src/shared/wait.js';
import { freePort } from './ports.js';

export const PROMETHEUS_SKIP_REASON = existsSync('/usr/bin/prometheus') ? undefined : 'prometheus not installed (apt-get install prometheus)';

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

export class Prometheus {
  readonly dir = mkdtempSync(join(tmpdir(), 'nd-prom-'));
  port = 0;
  log = '';
  private child?: ChildProcess;

  constructor(private readonly targets: string[]) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.port = await freePort();
    writeFileSync(join(this.dir, 'prometheus.yml'), `global: { scrape_interval: 1s, scrape_timeout: 1s }
scrape_configs:
  - job_name: netdoctor
    static_configs: [ { targets: [${this.targets.map((t) => JSON.stringify(t)).join(', ')}] } ]
`);
    const child = (this.child = spawn('/usr/bin/prometheus', [
      `--config.file=${join(this.dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(this.dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${this.port}`,
    ], { stdio: ['ignore', 'pipe', 'pipe'] }));
    child.stdout!.on('data', (d: Buffer) => (this.log += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.log += d.toString()));
    await waitFor('Prometheus to be ready', async () => {
      if (child.exitCode !== null) throw new Error(`prometheus exited: ${this.log.slice(-2000)}`);
      return fetch(`${this.url}/-/ready`).then((r) => r.ok, () => false);
    }, { timeoutMs: 30_000, detail: () => this.log.slice(-2000) });
    return this;
  }

  /** An instant query through the HTTP API. */
  async query(promql: string): Promise<Sample[]> {
    const r = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await r.json()) as { status: string; data: { result: Sample[] }; error?: string };
    if (body.status !== 'success') throw new Error(`query ${promql}: ${body.error}`);
    return body.data.result;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.pid !== undefined) {
      await new Promise<void>((res) => {
        child.once('exit', () => res());
        process.kill(child.pid!, 'SIGTERM');
      });
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
