/** One HTTP POST for the HTTP channels: the run's signal, a capped reply, errors in words without secrets. */
import { redactUrl } from '../../shared/redact.js';
import { VERSION } from '../../version.js';
import { DeliveryError } from './types.js';

export interface HttpAuth {
  bearer?: string;
  basic?: { user: string; password: string };
}

export function authHeaders(auth: HttpAuth): Record<string, string> {
  if (auth.bearer) return { authorization: `Bearer ${auth.bearer}` };
  if (auth.basic) return { authorization: `Basic ${Buffer.from(`${auth.basic.user}:${auth.basic.password}`).toString('base64')}` };
  return {};
}

/** POSTs `body`; resolves on 2xx, otherwise throws a {@link DeliveryError} naming the status or socket error. */
export async function post(url: string, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<void> {
  const where = redactUrl(url);
  // fetch refuses URLs with credentials: `https://user:pass@host/…` becomes a Basic header (unless one is set).
  const target = new URL(url);
  const fromUrl = target.username || target.password
    ? authHeaders({ basic: { user: decodeURIComponent(target.username), password: decodeURIComponent(target.password) } })
    : {};
  target.username = '';
  target.password = '';
  let res: Response;
  try {
    res = await fetch(target, {
      method: 'POST',
      body,
      headers: { 'user-agent': `netdoctor/${VERSION}`, ...fromUrl, ...headers },
      signal,
      redirect: 'error',
    });
  } catch (err) {
    throw new DeliveryError(`${where}: ${networkReason(err, signal)}`);
  }
  // The reply is read (capped) so the connection is released; a reason from the server helps a 4xx.
  const text = await res.text().catch(() => '');
  if (!res.ok) {
    const detail = text.trim().split('\n')[0]?.slice(0, 120);
    throw new DeliveryError(`${where}: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${detail ? ` (${detail})` : ''}`);
  }
}

/** `connection refused`, `name not found`, `timed out at the deadline`… from a fetch error. */
export function networkReason(err: unknown, signal?: AbortSignal): string {
  if (signal?.aborted) return 'gave up at the run\'s deadline';
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? (err as { code?: string }).code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name does not resolve';
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connection timed out';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'connection reset';
    default:
      return cause?.message ?? (err as Error).message ?? String(err);
  }
}
