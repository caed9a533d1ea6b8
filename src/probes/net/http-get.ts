/**
 * A tiny HTTP(S) GET for what-is-my-IP services: one small text body, a hard
 * timeout, the run's abort signal, a size cap, and at most a few redirects.
 * It rejects with an {@link HttpGetError} whose message says what happened in
 * words a user can act on ("timed out after 3000 ms", "HTTP 503").
 */
import http from 'node:http';
import https from 'node:https';
import { isIPv4 } from '../../shared/ipv4.js';

export interface HttpGetOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** Bodies longer than this are cut off and rejected; what-is-my-IP answers are tens of bytes. */
  maxBytes?: number;
  maxRedirects?: number;
  /** A POST with this body (SOAP to a router); redirects are then not followed. */
  post?: { body: string; headers: Record<string, string> };
  /** Give back the body of a non-2xx answer instead of rejecting (a SOAP fault comes as HTTP 500). */
  errorBodies?: boolean;
}

export interface HttpGetResult {
  url: string;
  status: number;
  body: string;
  elapsedMs: number;
}

export type HttpGetErrorCode = 'timeout' | 'aborted' | 'too-large' | 'http-status' | 'redirects' | 'bad-url' | 'network';

export class HttpGetError extends Error {
  override name = 'HttpGetError';
  constructor(
    readonly code: HttpGetErrorCode,
    message: string,
    /** The socket error (`ECONNREFUSED`, `ENOTFOUND`…) behind a `network` error. */
    readonly errno?: string,
  ) {
    super(message);
  }
}

const DEFAULT_MAX_BYTES = 4096;

export async function httpGet(url: string, opts: HttpGetOptions): Promise<HttpGetResult> {
  const started = performance.now();
  const deadline = Date.now() + opts.timeoutMs;
  let current = url;
  for (let hop = 0; ; hop++) {
    const res = await getOnce(current, { ...opts, timeoutMs: Math.max(1, deadline - Date.now()) }, opts.timeoutMs);
    if (res.location === undefined) return { url: current, status: res.status, body: res.body, elapsedMs: Math.round(performance.now() - started) };
    if (hop >= (opts.maxRedirects ?? 3)) throw new HttpGetError('redirects', `more than ${opts.maxRedirects ?? 3} redirects`);
    let next: URL;
    try {
      next = new URL(res.location, current);
    } catch {
      throw new HttpGetError('bad-url', `redirected to an invalid URL`);
    }
    // Never downgrade https to http on a redirect.
    if (new URL(current).protocol === 'https:' && next.protocol !== 'https:') throw new HttpGetError('redirects', 'redirected from https to plain http; refused');
    current = next.toString();
  }
}

function getOnce(url: string, opts: HttpGetOptions, totalMs: number): Promise<{ status: number; body: string; location?: string }> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return Promise.reject(new HttpGetError('bad-url', `${JSON.stringify(url)} is not a URL`));
  }
  const client = parsed.protocol === 'https:' ? https : parsed.protocol === 'http:' ? http : undefined;
  if (!client) return Promise.reject(new HttpGetError('bad-url', `${parsed.protocol} is not http: or https:`));
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;

  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const fail = (err: HttpGetError) => settle(() => {
      req.destroy();
      reject(err);
    });
    const onAbort = () => fail(new HttpGetError('aborted', 'the run was cut before the answer came'));
    const timer = setTimeout(() => fail(new HttpGetError('timeout', `timed out after ${Math.round(totalMs)} ms`)), opts.timeoutMs);

    const headers = { 'user-agent': 'netdoctor', accept: 'text/plain, */*;q=0.5', ...(opts.post ? { ...opts.post.headers, 'content-length': String(Buffer.byteLength(opts.post.body)) } : {}) };
    const req = client.request(parsed, { method: opts.post ? 'POST' : 'GET', headers, agent: false }, (res) => {
      const status = res.statusCode ?? 0;
      if (!opts.post && status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        return settle(() => {
          req.destroy();
          resolve({ status, body: '', location: res.headers.location });
        });
      }
      if ((status < 200 || status >= 300) && !opts.errorBodies) {
        res.resume();
        return fail(new HttpGetError('http-status', `HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}`));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) return fail(new HttpGetError('too-large', `the answer is longer than ${maxBytes} bytes`));
        chunks.push(chunk);
      });
      res.on('end', () => settle(() => resolve({ status, body: Buffer.concat(chunks).toString('utf8') })));
      res.on('error', (err: NodeJS.ErrnoException) => fail(new HttpGetError('network', err.message, err.code)));
    });
    req.on('error', (err: NodeJS.ErrnoException) => fail(new HttpGetError('network', describeNetworkError(err), err.code)));
    req.end(opts.post?.body);
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function describeNetworkError(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the name does not resolve (${err.code})`;
    case 'EHOSTUNREACH':
      return 'host unreachable';
    case 'ENETUNREACH':
      return 'network unreachable (no route)';
    case 'ECONNRESET':
      return 'connection reset';
    default:
      return err.message;
  }
}

/**
 * The IPv4 address in a what-is-my-IP answer: the whole body (ipify, icanhazip,
 * ifconfig.me), or the one address inside JSON or an HTML line ("Current IP
 * Address: …"). Several different addresses, or none, is no answer.
 */
export function addressInBody(body: string): string | undefined {
  const trimmed = body.trim();
  if (isIPv4(trimmed)) return trimmed;
  const found = new Set((trimmed.match(/(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])/g) ?? []).filter(isIPv4));
  return found.size === 1 ? [...found][0] : undefined;
}
