/**
 * ddclient's cache: both generations of keys, and the promise that no
 * secret from ddclient's files ever comes out of the parser.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { cachePathFromConf, entryFor, parseDdclientCache, readCachePathFromConf, readDdclientCache } from '../../src/probes/net/ddclient.js';

const fixtures = new URL('../../fixtures/ddclient/', import.meta.url);
const read = (p: string) => readFileSync(new URL(p, fixtures), 'utf8');
const SECRETS = ['Hunter2-ddns-SECRET', 'comma,in-SECRET,password', 'in-SECRET', 'Tr0ub4dor-SECRET', 'pi-owner', 'members.dyndns.org'];
const noSecrets = (value: unknown) => {
  const text = JSON.stringify(value);
  for (const s of SECRETS) expect(text).not.toContain(s);
  expect(text).not.toMatch(/SECRET|password|login/i);
};

describe('ddclient cache before 3.11 (ip=, status=)', () => {
  const cache = parseDdclientCache(read('pre-3.11/ddclient.cache'));

  it('reads address, result and the time of the last successful update per host', () => {
    expect(cache.version).toBe('3.9.1');
    expect(cache.skippedLines).toBe(0);
    expect(entryFor(cache, 'home.dyn.example.net')).toEqual({
      host: 'home.dyn.example.net', ip: '203.0.113.10', status: 'good', mtime: 1736071200, atime: 1736071200, keys: 'ip',
    });
    // A comma inside a quoted password does not shift the fields after it.
    expect(entryFor(cache, 'other.dyn.example.net.')).toMatchObject({ ip: '198.51.100.7', status: 'nochg', mtime: 1735000000 });
    expect(entryFor(cache, 'missing.example.net')).toBeUndefined();
    expect(entryFor(cache, undefined)).toBeUndefined(); // two hosts and no name: no guessing
  });

  it('keeps no login, password or any other setting', () => {
    noSecrets(cache);
  });
});

describe('ddclient cache from 3.11 (ipv4=, status-ipv4=)', () => {
  const cache = parseDdclientCache(read('3.11/ddclient.cache'));

  it('reads the new keys and says which generation it used', () => {
    expect(cache.version).toBe('3.11.2');
    expect(entryFor(cache, undefined)).toEqual({
      host: 'home.dyn.example.net', ip: '203.0.113.10', status: 'good', mtime: 1740826800, atime: 1740830400, keys: 'ipv4',
    });
    noSecrets(cache);
  });

  it('prefers the new keys when an upgraded file carries both', () => {
    const c = parseDdclientCache('ip=198.51.100.1,status=good,ipv4=203.0.113.11,status-ipv4=failed,mtime=1 h.example\n');
    expect(c.entries[0]).toMatchObject({ ip: '203.0.113.11', status: 'failed', keys: 'ipv4' });
  });

  it('drops values that are not what their key promises', () => {
    const c = parseDdclientCache('ip=not-an-ip,status=<script>,mtime=yesterday h.example\n');
    expect(c.entries[0]).toEqual({ host: 'h.example', keys: 'ip' });
  });
});

describe('ddclient.conf', () => {
  it('yields only the cache path, from plain and continued lines', () => {
    expect(cachePathFromConf(read('pre-3.11/ddclient.conf'))).toBe('/var/cache/ddclient/ddclient.cache');
    expect(cachePathFromConf('daemon=300, cache=/tmp/x.cache, \\\n password=abc\n')).toBe('/tmp/x.cache');
    expect(cachePathFromConf('# cache=/commented\npassword=cache=/not-this\n')).toBeUndefined();
  });
});

describe('reading the files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nd-ddclient-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a cache file and its mtime; errors name the path and never the content', async () => {
    const path = join(dir, 'ddclient.cache');
    writeFileSync(path, read('pre-3.11/ddclient.cache'));
    const ok = await readDdclientCache(path);
    expect(ok.ok && entryFor(ok.cache, 'home.dyn.example.net')?.ip).toBe('203.0.113.10');
    noSecrets(ok.ok ? ok.cache : undefined);

    const missing = await readDdclientCache(join(dir, 'nope'));
    expect(missing).toMatchObject({ ok: false, error: { code: 'missing', message: expect.stringContaining('does not exist') } });
    const isDir = await readDdclientCache(dir);
    expect(isDir).toMatchObject({ ok: false, error: { code: 'not-a-file' } });
  });

  it('reports a root-only cache as a permission problem (when not running as root)', async () => {
    const path = join(dir, 'root-only.cache');
    writeFileSync(path, 'ip=1.2.3.4 h\n');
    chmodSync(path, 0o000);
    const r = await readDdclientCache(path);
    if (process.getuid?.() === 0) expect(r.ok).toBe(true); // root reads anything
    else expect(r).toMatchObject({ ok: false, error: { code: 'permission' } });
  });

  it('reads the cache path from a conf without reading anything else from it', async () => {
    const conf = join(dir, 'ddclient.conf');
    writeFileSync(conf, read('3.11/ddclient.conf'));
    const r = await readCachePathFromConf(conf);
    expect(r).toEqual({ ok: true, cachePath: '/var/cache/ddclient/ddclient.cache' });
  });
});

describe('fuzz', () => {
  const secretKeys = ['password', 'login', 'server', 'protocol', 'custom', 'token', 'apikey', 'web-skip'];
  const plainValue = fc.stringMatching(/^[A-Za-z0-9._:-]{0,20}$/);
  const secretValue = fc.stringMatching(/^[A-Za-z0-9,'" =\\._-]{0,20}$/).map((s) => `SECRET${s}`);

  it('never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (text) => {
        const c = parseDdclientCache(text);
        expect(Array.isArray(c.entries)).toBe(true);
        for (const e of c.entries) expect(['ip', 'ipv4', 'none']).toContain(e.keys);
      }),
      { numRuns: 2000 },
    );
  });

  it('never lets a value of a non-allow-listed key through, however it is quoted or escaped', () => {
    const field = fc.oneof(
      fc.tuple(fc.constantFrom(...secretKeys), secretValue).map(([k, v]) => `${k}=${/[,'"\s\\]/.test(v) ? `'${v.replace(/'/g, '')}'` : v}`),
      fc.tuple(fc.constantFrom('ip', 'ipv4', 'status', 'status-ipv4', 'mtime', 'atime'), plainValue).map(([k, v]) => `${k}=${v}`),
    );
    const line = fc.tuple(fc.array(field, { maxLength: 8 }), fc.stringMatching(/^[a-z0-9.-]{1,30}$/)).map(([fs, host]) => `${fs.join(',')} ${host}`);
    fc.assert(
      fc.property(fc.array(line, { maxLength: 5 }), (lines) => {
        const out = JSON.stringify(parseDdclientCache(lines.join('\n')));
        expect(out).not.toContain('SECRET');
      }),
      { numRuns: 2000 },
    );
  });
});
