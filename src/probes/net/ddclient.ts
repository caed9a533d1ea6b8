/**
 * Reading what ddclient believes it last published, from its cache file
 * (`/var/cache/ddclient/ddclient.cache`). One line per host:
 *
 *   ## ddclient-3.9.1
 *   ## last updated at Sun Jan  5 10:00:00 2025 (1736071200)
 *   atime=0,host=home.dyn.example.net,ip=203.0.113.10,login=…,mtime=1736071200,password=…,status=good home.dyn.example.net
 *
 * Before 3.11 the address and result are `ip=` and `status=`; from 3.11 on
 * `ipv4=`/`status-ipv4=` (and `ipv6=`/`status-ipv6=`). `mtime=` is the time of
 * the last successful update. Older versions copy every "cacheable" setting
 * into the cache, the login and password among them, so this parser keeps an
 * allow-list of keys and drops everything else unread: no other value ever
 * leaves this module, not even in an error message.
 */
import { readFile, stat } from 'node:fs/promises';
import { isIPv4 } from '../../shared/ipv4.js';

/** The only keys ever kept. Anything else (login, password, server, …) is dropped. */
const KEPT_KEYS = ['ip', 'ipv4', 'ipv6', 'status', 'status-ipv4', 'status-ipv6', 'mtime', 'atime', 'wtime'] as const;
type KeptKey = (typeof KEPT_KEYS)[number];
const KEPT = new Set<string>(KEPT_KEYS);

/** Refuse files that cannot be a ddclient cache rather than reading a disk image into memory. */
export const MAX_CACHE_BYTES = 1 << 20;
const MAX_LINE = 64 * 1024;

export interface DdclientEntry {
  host: string;
  /** IPv4 address ddclient last sent (`ipv4=` or, before 3.11, `ip=`). */
  ip?: string;
  /** Result of that update: `good`, `nochg`, `failed`, `badauth`… */
  status?: string;
  /** Unix seconds of the last successful update. */
  mtime?: number;
  /** Unix seconds of the last attempt. */
  atime?: number;
  /** Which generation of keys the line used: `ip` (before 3.11) or `ipv4`. */
  keys: 'ip' | 'ipv4' | 'none';
}

export interface DdclientCache {
  /** The `## ddclient-x.y.z` header, when present. */
  version?: string;
  entries: DdclientEntry[];
  /** Lines that were not `key=value,… host`, counted, never quoted. */
  skippedLines: number;
}

/**
 * One value as ddclient reads it, from `start` up to the first unquoted
 * character `ends` accepts: a backslash takes the next character as it is,
 * and '…' or "…" group (the quotes are dropped). Shared by the cache and the
 * config reader, which differ only in what ends a value.
 */
function scanValue(text: string, start: number, ends: (c: string) => boolean): { value: string; end: number } {
  let value = '';
  let quote = '';
  let i = start;
  for (; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && i + 1 < text.length) value += text[++i];
    else if (quote) {
      if (c === quote) quote = '';
      else value += c;
    } else if (c === "'" || c === '"') quote = c;
    else if (ends(c)) break;
    else value += c;
  }
  return { value, end: i };
}

/**
 * Splits `k=v,k=v,…` the way ddclient writes it, tolerating quoted values
 * (`'a,b'`, `"a,b"`) and backslash escapes so that a comma inside a password
 * cannot shift the fields after it. Only allow-listed keys are kept.
 */
function parseOptions(text: string): Partial<Record<KeptKey, string>> {
  const out: Partial<Record<KeptKey, string>> = {};
  let i = 0;
  while (i < text.length) {
    let key = '';
    while (i < text.length && text[i] !== '=' && text[i] !== ',') key += text[i++];
    let value = '';
    if (text[i] === '=') {
      const scanned = scanValue(text, i + 1, (c) => c === ',');
      value = scanned.value;
      i = scanned.end;
    }
    i++; // the comma
    key = key.trim();
    if (KEPT.has(key)) out[key as KeptKey] = value.trim();
  }
  return out;
}

const STATUS = /^[A-Za-z0-9_.-]{1,32}$/;
/** A host name ddclient could have written: letters, digits, `_.-`, not dots alone. */
const HOSTNAME = /^(?!\.+$)[A-Za-z0-9_.-]{1,253}$/;

function epoch(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,12}$/.test(text)) return undefined;
  const n = Number(text);
  return n > 0 ? n : undefined;
}

/** Parses the cache text. Never throws; values that are not what their key promises are left out. */
export function parseDdclientCache(text: string): DdclientCache {
  const cache: DdclientCache = { entries: [], skippedLines: 0 };
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.length > MAX_LINE ? '' : raw.trim();
    if (!line) {
      if (raw.length > MAX_LINE) cache.skippedLines++;
      continue;
    }
    if (line.startsWith('#')) {
      const v = /^##\s*ddclient-([0-9][0-9A-Za-z.~+-]{0,30})\s*$/.exec(line);
      if (v) cache.version = v[1];
      continue;
    }
    // `options host`: the host is the last word; a line without options is a host with nothing cached.
    const m = /^(?:(.*\S)\s+)?(\S+)$/.exec(line);
    const host = m?.[2];
    if (!m || !host || !HOSTNAME.test(host)) {
      cache.skippedLines++;
      continue;
    }
    const opts = parseOptions(m[1] ?? '');
    const ipv4 = opts.ipv4 !== undefined && isIPv4(opts.ipv4) ? opts.ipv4 : undefined;
    const ipOld = opts.ip !== undefined && isIPv4(opts.ip) ? opts.ip : undefined;
    const statusNew = opts['status-ipv4'];
    const statusOld = opts.status;
    // 3.11+ writes the new keys; some files carry both after an upgrade, and then the new ones are current.
    const useNew = ipv4 !== undefined || (statusNew !== undefined && statusNew !== '');
    const status = useNew ? statusNew : statusOld;
    cache.entries.push({
      host: host.toLowerCase().replace(/\.$/, ''),
      ip: useNew ? ipv4 : ipOld,
      status: status !== undefined && STATUS.test(status) ? status : undefined,
      mtime: epoch(opts.mtime),
      atime: epoch(opts.atime),
      keys: useNew ? 'ipv4' : ipOld !== undefined || statusOld !== undefined ? 'ip' : 'none',
    });
  }
  return cache;
}

/** The entry for `hostname`, or the only entry when there is just one and no name to match. */
export function entryFor(cache: DdclientCache, hostname: string | undefined): DdclientEntry | undefined {
  const want = hostname?.toLowerCase().replace(/\.$/, '');
  if (want) return cache.entries.find((e) => e.host === want);
  return cache.entries.length === 1 ? cache.entries[0] : undefined;
}

/**
 * The `cache=` setting of a ddclient.conf, and nothing else from that file:
 * it holds the provider password. Lines are `key=value` or `key=value, key=value`;
 * a continuation backslash joins lines.
 */
export function cachePathFromConf(text: string): string | undefined {
  let found: string | undefined;
  for (const line of text.replace(/\\\r?\n/g, ' ').split(/\r?\n/)) {
    for (const [key, value] of confAssignments(line)) if (key === 'cache' && value !== '') found = value;
  }
  return found;
}

/**
 * `key=value` assignments of one ddclient.conf line, read the way ddclient's
 * own parser reads them: a backslash escapes the next character, quotes
 * group, and an unquoted comma or blank ends a value. So a password like
 * `x\,cache=/y` or `'x,cache=/y'` stays one value and is never taken for a
 * cache setting. Words without `=` (host names) are skipped; an unquoted `#`
 * at the start of a word begins a comment.
 */
const CONF_KEY = /[A-Za-z][0-9A-Za-z_-]*=/y;
/** ddclient ends an unquoted value at a comma or any blank. */
const isSeparator = (c: string) => c === ',' || c === ' ' || c === '\t' || c === '\r' || c === '\n' || c === '\f' || c === '\v';

function* confAssignments(line: string): Generator<[string, string]> {
  let i = 0;
  while (i < line.length) {
    while (i < line.length && isSeparator(line[i])) i++;
    if (line[i] === '#') return;
    CONF_KEY.lastIndex = i;
    const key = CONF_KEY.exec(line);
    if (key) i += key[0].length;
    const { value, end } = scanValue(line, i, isSeparator);
    i = end;
    if (key) yield [key[0].slice(0, -1).toLowerCase(), value];
  }
}

export type ReadError = { code: 'missing' | 'permission' | 'too-large' | 'not-a-file' | 'io'; message: string };

export type DdclientRead =
  | { ok: true; cache: DdclientCache; fileMtime: Date; path: string }
  | { ok: false; error: ReadError; path: string };

/** Reads and parses the cache file. The error names the path and what is wrong with it, never its contents. */
export async function readDdclientCache(path: string): Promise<DdclientRead> {
  try {
    const st = await stat(path);
    if (!st.isFile()) return { ok: false, path, error: { code: 'not-a-file', message: `${path} is not a file` } };
    if (st.size > MAX_CACHE_BYTES) {
      return { ok: false, path, error: { code: 'too-large', message: `${path} is ${st.size} bytes; a ddclient cache is a few hundred` } };
    }
    const text = await readFile(path, 'utf8');
    return { ok: true, path, cache: parseDdclientCache(text), fileMtime: st.mtime };
  } catch (err) {
    return { ok: false, path, error: fileError(path, err) };
  }
}

export async function readCachePathFromConf(path: string): Promise<{ ok: true; cachePath?: string } | { ok: false; error: ReadError }> {
  try {
    const st = await stat(path);
    if (!st.isFile() || st.size > MAX_CACHE_BYTES) return { ok: false, error: { code: 'not-a-file', message: `${path} is not a ddclient.conf` } };
    return { ok: true, cachePath: cachePathFromConf(await readFile(path, 'utf8')) };
  } catch (err) {
    return { ok: false, error: fileError(path, err) };
  }
}

function fileError(path: string, err: unknown): ReadError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return { code: 'missing', message: `${path} does not exist` };
  if (code === 'EACCES' || code === 'EPERM') return { code: 'permission', message: `${path} is not readable by this user (ddclient keeps it root-only)` };
  if (code === 'EISDIR') return { code: 'not-a-file', message: `${path} is a directory` };
  return { code: 'io', message: `${path} cannot be read (${code ?? 'error'})` };
}
