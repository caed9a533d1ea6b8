/**
 * Learning the public address (HTTP GET on a real loopback server; answer
 * parsing; dns: source URLs) and the pure CGNAT judgement.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDnsSource } from '../../src/probes/ddns.js';
import { addressInBody, httpGet, HttpGetError } from '../../src/probes/net/http-get.js';

describe('addressInBody', () => {
  it.each([
    ['203.0.113.10\n', '203.0.113.10'],
    ['  198.51.100.7  ', '198.51.100.7'],
    ['{"ip":"203.0.113.11"}', '203.0.113.11'],
    ['<html><body>Current IP Address: 203.0.113.99</body></html>', '203.0.113.99'],
    ['203.0.113.10 seen as 203.0.113.10', '203.0.113.10'],
  ])('%j → %s', (body, ip) => expect(addressInBody(body)).toBe(ip));

  it.each([[''], ['no address here'], ['203.0.113.10 and 203.0.113.11'], ['999.1.1.1'], ['1.2.3.4.5'], ['2001:db8::1']])('%j → nothing', (body) => {
    expect(addressInBody(body)).toBeUndefined();
  });
});

describe('dns: sources', () => {
  it('reads server, name, port and type', () => {
    expect(parseDnsSource('dns://208.67.222.222/myip.opendns.com')).toEqual({ server: '208.67.222.222', port: 53, name: 'myip.opendns.com', type: 'A' });
    expect(parseDnsSource('dns://216.239.32.10:5353/o-o.myaddr.l.google.com.?type=txt')).toEqual({
      server: '216.239.32.10', port: 5353, name: 'o-o.myaddr.l.google.com', type: 'TXT',
    });
  });

  it('says what is wrong with a bad one', () => {
    expect(() => parseDnsSource('dns://resolver1.opendns.com/myip.opendns.com')).toThrow(/must be an IPv4 address/);
    expect(() => parseDnsSource('dns://208.67.222.222/')).toThrow(/names no record/);
    expect(() => parseDnsSource('dns://208.67.222.222/x.example?type=MX')).toThrow(/not A or TXT/);
  });
});

describe('httpGet on a loopback server', () => {
  let server: http.Server;
  let base: string;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const addr = req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '';
      switch (req.url) {
        case '/':
          return res.end(`${addr}\n`);
        case '/redirect':
          res.writeHead(302, { location: '/' });
          return res.end();
        case '/loop':
          res.writeHead(302, { location: '/loop' });
          return res.end();
        case '/busy':
          res.writeHead(503);
          return res.end('try later');
        case '/huge':
          return res.end('x'.repeat(100_000));
        case '/hang':
          return; // never answers
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const failure = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (err) {
      expect(err).toBeInstanceOf(HttpGetError);
      return err as HttpGetError;
    }
    throw new Error('expected a failure');
  };

  it('returns the body: the caller\'s address', async () => {
    const r = await httpGet(`${base}/`, { timeoutMs: 2000 });
    expect(r.status).toBe(200);
    expect(addressInBody(r.body)).toBe('127.0.0.1');
  });

  it('follows a redirect, but not forever', async () => {
    expect((await httpGet(`${base}/redirect`, { timeoutMs: 2000 })).body.trim()).toBe('127.0.0.1');
    expect((await failure(httpGet(`${base}/loop`, { timeoutMs: 2000 }))).code).toBe('redirects');
  });

  it('reports HTTP errors, oversize answers, timeouts, refusals and aborts in words', async () => {
    const busy = await failure(httpGet(`${base}/busy`, { timeoutMs: 2000 }));
    expect([busy.code, busy.message]).toEqual(['http-status', 'HTTP 503 Service Unavailable']);
    expect((await failure(httpGet(`${base}/huge`, { timeoutMs: 2000 }))).code).toBe('too-large');
    const slow = await failure(httpGet(`${base}/hang`, { timeoutMs: 300 }));
    expect([slow.code, slow.message]).toEqual(['timeout', 'timed out after 300 ms']);
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const refused = await failure(httpGet(`http://127.0.0.1:${port}/`, { timeoutMs: 2000 }));
    expect([refused.code, refused.message, refused.errno]).toEqual(['network', 'connection refused', 'ECONNREFUSED']);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    expect((await failure(httpGet(`${base}/hang`, { timeoutMs: 5000, signal: ac.signal }))).code).toBe('aborted');
  });
});
