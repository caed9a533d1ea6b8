/**
 * Real receivers for notification tests, all on 127.0.0.1 and started by the
 * test: an HTTP receiver that records requests (webhook, ntfy, Alertmanager's
 * webhook), Debian's Alertmanager with its own config, port and storage, and
 * an aiosmtpd SMTP server with STARTTLS and AUTH. Each is stopped by its pid.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, it } from 'vitest';
import type { Config } from '../../src/config/resolve.js';
import { NotifyStore } from '../../src/history/notify-store.js';
import { waitFor } from '../../src/shared/wait.js';
import { configFrom } from './config.js';
import { freePort } from './ports.js';

export const SYSTEM_PYTHON = '/usr/bin/python3';

/** A config with these `notify.channels` (YAML list items, indented four spaces). */
export function notifyConfig(channels: string, minInterval = '10m'): Config {
  return configFrom(`site: home\nnotify:\n  minInterval: ${minInterval}\n  channels:\n${channels}`);
}

/** A notification store in a database of its own, in memory. */
export const memoryNotifyStore = (): NotifyStore => new NotifyStore(new Database(':memory:'));

/** Why a real part cannot run here, or undefined. */
export function missingPart(part: 'alertmanager' | 'aiosmtpd' | 'promtool' | 'openssl'): string | undefined {
  switch (part) {
    case 'alertmanager':
      return existsSync('/usr/bin/prometheus-alertmanager') ? undefined : 'prometheus-alertmanager not installed (apt-get install prometheus-alertmanager)';
    case 'promtool':
      return existsSync('/usr/bin/promtool') ? undefined : 'promtool not installed (apt-get install prometheus)';
    case 'openssl':
      return existsSync('/usr/bin/openssl') ? undefined : 'openssl not installed';
    case 'aiosmtpd':
      return spawnSync(SYSTEM_PYTHON, ['-c', 'import aiosmtpd'], { encoding: 'utf8' }).status === 0 ? undefined : 'python3-aiosmtpd not installed (apt-get install python3-aiosmtpd)';
  }
}

/** A describe block needing a real part: skipped with its reason, or failing under NETDOCTOR_LAB=required. */
export function describeWithPart(name: string, missing: string | undefined, fn: () => void): void {
  if (!missing) {
    describe(name, fn);
    return;
  }
  if (process.env.NETDOCTOR_LAB === 'required') {
    describe(name, () => it('needs its real part (NETDOCTOR_LAB=required)', () => {
      throw new Error(`required but cannot run here: ${missing}`);
    }));
    return;
  }
  console.warn(`${name}: skipped: ${missing} (set NETDOCTOR_LAB=required to make this a failure)`);
  describe.skip(name, fn);
}

export interface Recorded {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** An HTTP server recording every request; `status` is what it answers (0: never answers). */
export class Receiver {
  readonly requests: Recorded[] = [];
  status = 200;
  port = 0;
  private server?: Server;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        if (this.status === 0) return; // hangs: the client must give up by itself
        res.writeHead(this.status, { 'content-type': 'text/plain' }).end(this.status < 300 ? 'ok' : 'receiver says no');
      });
    });
    await new Promise<void>((res) => this.server!.listen(this.port, '127.0.0.1', res));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  on(path: string): Recorded[] {
    return this.requests.filter((r) => r.path === path);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((res) => (this.server ? this.server.close(() => res()) : res()));
  }
}

function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.pid === undefined) return Promise.resolve();
  return new Promise((res) => {
    child.once('exit', () => res());
    process.kill(child.pid!, 'SIGTERM');
  });
}

/** Debian's Alertmanager routing everything to one webhook receiver at once (group_wait 0s, group_interval 1s). */
export class Alertmanager {
  readonly dir = mkdtempSync(join(tmpdir(), 'nd-am-'));
  port = 0;
  log = '';
  private child?: ChildProcess;

  constructor(private readonly webhookUrl: string) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.port = await freePort();
    writeFileSync(join(this.dir, 'alertmanager.yml'), `route:
  receiver: rec
  group_by: [alertname, site]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: rec
    webhook_configs:
      - url: ${this.webhookUrl}
        send_resolved: true
`);
    this.child = spawn('/usr/bin/prometheus-alertmanager', [
      `--config.file=${join(this.dir, 'alertmanager.yml')}`,
      `--storage.path=${join(this.dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${this.port}`,
      '--cluster.listen-address=',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => (this.log += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.log += d.toString()));
    await waitFor('Alertmanager to be ready', async () => {
      if (this.child!.exitCode !== null) throw new Error(`alertmanager exited: ${this.log}`);
      return fetch(`${this.url}/-/ready`).then((r) => r.ok, () => false);
    }, { timeoutMs: 20_000, detail: () => this.log });
    return this;
  }

  /** Active alerts, as Alertmanager's API lists them. */
  async alerts(): Promise<Array<{ labels: Record<string, string>; annotations: Record<string, string>; endsAt: string; status: { state: string } }>> {
    const r = await fetch(`${this.url}/api/v2/alerts`);
    return (await r.json()) as never;
  }

  async stop(): Promise<void> {
    await stopChild(this.child);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const SMTP_SCRIPT = `
import json, ssl, sys
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
port, cert, key, user, password = sys.argv[1:6]
class Handler:
    async def handle_DATA(self, server, session, envelope):
        print(json.dumps({"from": envelope.mail_from, "to": envelope.rcpt_tos,
                          "data": envelope.content.decode("utf8", "replace"),
                          "tls": getattr(session, "ssl", None) is not None,
                          "auth": bool(getattr(session, "authenticated", False))}), flush=True)
        return "250 OK"
def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password
    return AuthResult(success=ok, handled=False)
ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(cert, key)
c = Controller(Handler(), hostname="127.0.0.1", port=int(port), tls_context=ctx, require_starttls=True,
               authenticator=authenticator, auth_required=True)
c.start()
print("READY", flush=True)
sys.stdin.read()
c.stop()
`;

export interface ReceivedMail {
  from: string;
  to: string[];
  data: string;
  tls: boolean;
  auth: boolean;
}

/** aiosmtpd on 127.0.0.1 requiring STARTTLS (a throwaway self-signed certificate) and AUTH with one user. */
export class SmtpServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'nd-smtp-'));
  readonly mails: ReceivedMail[] = [];
  port = 0;
  log = '';
  private child?: ChildProcess;

  constructor(readonly user: string, readonly password: string) {
    const r = spawnSync('/usr/bin/openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', this.key, '-out', this.cert], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl: ${r.stderr}`);
  }

  get cert(): string {
    return join(this.dir, 'cert.pem');
  }

  private get key(): string {
    return join(this.dir, 'key.pem');
  }

  /** Starts it; on the same port as before when restarted. */
  async start(): Promise<this> {
    if (!this.port) this.port = await freePort();
    const child = (this.child = spawn(SYSTEM_PYTHON, ['-c', SMTP_SCRIPT, String(this.port), this.cert, this.key, this.user, this.password], { stdio: ['pipe', 'pipe', 'pipe'] }));
    let ready = false;
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line === 'READY') ready = true;
        else if (line.startsWith('{')) this.mails.push(JSON.parse(line) as ReceivedMail);
      }
    });
    child.stderr!.on('data', (d: Buffer) => (this.log += d.toString()));
    await waitFor('aiosmtpd to be ready', () => {
      if (child.exitCode !== null) throw new Error(`aiosmtpd exited: ${this.log}`);
      return ready;
    }, { timeoutMs: 20_000, detail: () => this.log });
    return this;
  }

  async stop(): Promise<void> {
    await stopChild(this.child);
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
