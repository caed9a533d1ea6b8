/**
 * The iputils ping wrapper: parsing recorded output (fixtures/packets/neigh/ping,
 * recorded in namespaces), argument safety, and real runs against 127.0.0.1
 * only (never anything else from the machine's own namespace).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePingOutput, ping, pingAll, pingArgs } from '../../src/probes/net/ping.js';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/packets/neigh/ping/${name}`, import.meta.url), 'utf8');

describe('parsePingOutput on recorded iputils output', () => {
  it('reads replies, the summary and the average', () => {
    const p = parsePingOutput(fixture('loopback-3.txt'));
    expect(p.sent).toBe(3);
    expect(p.received).toBe(3);
    expect(p.lossPct).toBe(0);
    expect(p.replies.map((r) => [r.from, r.seq, r.timeMs])).toEqual([
      ['127.0.0.1', 1, 0.029],
      ['127.0.0.1', 2, 0.136],
      ['127.0.0.1', 3, 0.045],
    ]);
    expect(p.avgRttMs).toBe(0.07);
  });

  it('reads Time to live exceeded with the router that sent it', () => {
    const p = parsePingOutput(fixture('ttl-exceeded.txt'));
    expect(p.sent).toBe(2);
    expect(p.received).toBe(0);
    expect(p.lossPct).toBe(100);
    expect(p.errors).toEqual([
      { from: '192.168.1.13', seq: 1, message: 'Time to live exceeded' },
      { from: '192.168.1.13', seq: 2, message: 'Time to live exceeded' },
    ]);
  });

  it('keeps Destination Host Unreachable apart from replies', () => {
    const p = parsePingOutput(fixture('unreachable.txt'));
    expect(p.replies).toEqual([]);
    expect(p.errors[0].message).toBe('Destination Host Unreachable');
  });

  it('reads silence as 100% loss', () => {
    const p = parsePingOutput(fixture('no-answer.txt'));
    expect([p.sent, p.received, p.lossPct, p.replies.length]).toEqual([2, 0, 100, 0]);
  });

  it('reads every responder of an all-nodes multicast echo, zones stripped, duplicates marked', () => {
    const p = parsePingOutput(fixture('all-nodes-ff02-1.txt'));
    const from = [...new Set(p.replies.map((r) => r.from))];
    expect(from).toEqual(['fe80::ba27:ebff:fe00:11', 'fe80::e47d:d1ff:fe0c:3674', 'fe80::ba27:ebff:fe00:13', 'fe80::ba27:ebff:fe00:12']);
    expect(p.replies.filter((r) => r.duplicate)).toHaveLength(3);
  });

  it('reads an ICMP error whose source is followed by a colon (a redirect)', () => {
    const p = parsePingOutput('From 192.168.1.105: icmp_seq=1 Redirect Host(New nexthop: 192.168.1.13)\nFrom 192.168.1.13 icmp_seq=1 Time to live exceeded\n');
    expect(p.errors).toEqual([
      { from: '192.168.1.105', seq: 1, message: 'Redirect Host(New nexthop: 192.168.1.13)' },
      { from: '192.168.1.13', seq: 1, message: 'Time to live exceeded' },
    ]);
  });

  it('reads times of 100 ms and more, and ignores lines it does not know', () => {
    const p = parsePingOutput('PING x\n64 bytes from 10.0.0.1: icmp_seq=7 ttl=50 time=123 ms\nsomething else\n');
    expect(p.replies).toEqual([{ from: '10.0.0.1', seq: 7, ttl: 50, timeMs: 123, duplicate: false }]);
    expect(p.sent).toBeUndefined();
  });
});

describe('ping arguments', () => {
  it('puts the target after -- and asks for numeric output', () => {
    const args = pingArgs('192.168.1.10', { count: 3, intervalMs: 200, waitMs: 1000, ttl: 2, iface: 'eth0' });
    expect(args).toEqual(['-4', '-n', '-c', '3', '-i', '0.200', '-W', '1.000', '-t', '2', '-I', 'eth0', '--', '192.168.1.10']);
    expect(pingArgs('ff02::1', { count: 2, intervalMs: 1000, waitMs: 500, ipv6: true, deadlineS: 1, iface: 'eth0' })).toEqual([
      '-6', '-n', '-c', '2', '-i', '1.000', '-W', '0.500', '-w', '1', '-I', 'eth0', '--', 'ff02::1',
    ]);
  });

  it('refuses anything but an IPv4 address as the target', async () => {
    for (const bad of ['-h', '-f', '--help', '192.168.1.300', 'localhost', '127.0.0.1 ', '']) {
      await expect(ping(bad)).rejects.toThrow(/not an IPv4 address/);
    }
  });

  it('refuses an interface name that could be an option, and out-of-range numbers', async () => {
    await expect(ping('127.0.0.1', { iface: '-f' })).rejects.toThrow(/interface name/);
    await expect(ping('127.0.0.1', { ttl: 0 })).rejects.toThrow(/ttl/);
    await expect(ping('127.0.0.1', { count: 0 })).rejects.toThrow(/count/);
    await expect(ping('127.0.0.1', { intervalMs: 1 })).rejects.toThrow(/interval/);
  });
});

describe('ping against 127.0.0.1', () => {
  it('measures replies and round-trip times', async () => {
    const r = await ping('127.0.0.1', { count: 2, intervalMs: 50, timeoutMs: 3000 });
    expect(r.error).toBeUndefined();
    expect(r.sent).toBe(2);
    expect(r.received).toBe(2);
    expect(r.lossPct).toBe(0);
    expect(r.rttMs).toHaveLength(2);
    expect(r.avgRttMs).toBeGreaterThan(0);
  });

  it('stops the child when the signal aborts, keeping what it measured', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 400);
    const started = Date.now();
    const r = await ping('127.0.0.1', { count: 50, intervalMs: 100, timeoutMs: 20_000, signal: controller.signal });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r.error).toBe('aborted');
    expect(r.sent).toBeGreaterThan(0);
    expect(r.sent).toBeLessThan(50);
  });

  it('stops the child at its own time limit', async () => {
    const r = await ping('127.0.0.1', { count: 50, intervalMs: 100, timeoutMs: 500 });
    expect(r.error).toMatch(/did not finish within 500 ms/);
    expect(r.sent).toBeLessThan(50);
  });

  it('reports an error, not a rejection, when the binary is missing', async () => {
    const saved = process.env.NETDOCTOR_PING;
    process.env.NETDOCTOR_PING = '/nonexistent/ping';
    try {
      const r = await ping('127.0.0.1', { count: 1 });
      expect(r.error).toMatch(/install iputils ping/);
      expect(r.received).toBe(0);
      expect(r.lossPct).toBe(100);
    } finally {
      if (saved === undefined) delete process.env.NETDOCTOR_PING;
      else process.env.NETDOCTOR_PING = saved;
    }
  });

  it('pingAll keeps the order of its targets', async () => {
    const rs = await pingAll(['127.0.0.3', '127.0.0.1', '127.0.0.2'], { count: 1, concurrency: 2 });
    expect(rs.map((r) => [r.target, r.received])).toEqual([['127.0.0.3', 1], ['127.0.0.1', 1], ['127.0.0.2', 1]]);
  });
});
