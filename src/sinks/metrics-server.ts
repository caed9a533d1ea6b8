/**
 * The HTTP side of `netdoctor serve`: `/metrics` (the last finished run, in
 * Prometheus' text format) and `/healthz` (200 while runs keep finishing,
 * 503 before the first one and once the last is older than `staleAfterMs`).
 * It only serves what it is given; the run loop lives with the caller.
 */
import { createServer, type Server } from 'node:http';
import type { CheckReport } from '../report/json.js';
import { formatDuration } from '../shared/duration.js';
import { parseListen } from '../shared/listen.js';
import { exposition } from './prometheus.js';

export interface MetricsServer {
  /** The address it listens on, e.g. `127.0.0.1:9469`. */
  readonly address: string;
  /** Hand over a finished run: /metrics serves it from now on. */
  update(report: CheckReport, finishedAt?: number): void;
  close(): Promise<void>;
}

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export async function startMetricsServer(listen: string, opts: { staleAfterMs: number }): Promise<MetricsServer> {
  let text: string | undefined;
  let finished: number | undefined;
  let pending: Promise<void> = Promise.resolve();
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      void pending.then(() => {
        if (text === undefined) res.writeHead(503, { 'content-type': 'text/plain' }).end('no run has finished yet\n');
        else res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(text);
      });
      return;
    }
    if (path === '/healthz') {
      const age = finished === undefined ? undefined : Date.now() - finished;
      const ok = age !== undefined && age <= opts.staleAfterMs;
      const why = age === undefined ? 'no run has finished yet' : `last run finished ${formatDuration(age)} ago`;
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(`${ok ? 'ok' : 'stale'}: ${why}\n`);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('netdoctor serves /metrics and /healthz\n');
  });
  const parsed = parseListen(listen);
  if (!parsed) throw new Error(`${JSON.stringify(listen)} is not host:port`);
  const { host, port } = parsed;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address() as { address: string; port: number; family: string };
  return {
    address: a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`,
    update(report, finishedAt = Date.now()) {
      pending = exposition(report).then((t) => {
        text = t;
        finished = finishedAt;
      });
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
