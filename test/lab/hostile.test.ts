/**
 * A hostile LAN. pi-dns's dnsmasq is stopped (the dns-down fault frees
 * 192.168.1.10:53) and in its place runs a node that answers every DNS
 * question with garbage — random bytes, wrong ids, self-pointing and looping
 * compression pointers, header counts of 65535, RDATA past the end, a
 * truncated flag that sends the client to TCP, where it gets garbage or
 * silence — and floods UDP port 68 by broadcast with random, mutated and
 * malformed DHCP packets, answering every DISCOVER it sees with unreadable
 * offers for that very transaction. Meanwhile `netdoctor check --json` runs
 * in the client, and must finish within its deadline, say what is real (the
 * router's DHCP offer, DNS at 192.168.1.10 not healthy), exit with a code and
 * not crash.
 *
 * The hostile node is this test's own process, started by pid and stopped by
 * pid; it also ends itself after a minute should the test die first.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/version.js';
import { checkReportSchema, type CheckJson } from '../support/check-json.js';
import { describeLab, startInNode, type LabNode, type TestLab } from '../support/lab.js';
import { waitFor } from '../../src/shared/wait.js';

/** Runs inside pi-dns: DNS garbage on 53 (UDP and TCP), the DHCP flood on 68, malformed answers to DISCOVERs on 67. */
const HOSTILE = String.raw`
import dgram from 'node:dgram';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { randomBytes, randomInt } from 'node:crypto';

const [offerHex, lifeMs] = process.argv.slice(1);
const offer = Buffer.from(readFileSync(offerHex, 'utf8').replace(/\s+/g, ''), 'hex');
const stats = { dnsQueries: 0, dnsReplies: 0, tcpConnections: 0, dhcpFlood: 0, discoversSeen: 0, discoverAnswers: 0, errors: 0 };
const pick = (a) => a[randomInt(a.length)];

// ---- DNS: never one reply that is both ours and readable.
function questionEnd(q) {
  let o = 12;
  while (o < q.length && q[o] !== 0) o += q[o] + 1;
  return Math.min(q.length, o + 5);
}
function garbage(q) {
  const id = q.subarray(0, 2);
  const question = q.subarray(12, questionEnd(q));
  const head = (flags, qd, an, ns, ar) => { const h = Buffer.alloc(12); id.copy(h); h.writeUInt16BE(flags, 2); h.writeUInt16BE(qd, 4); h.writeUInt16BE(an, 6); h.writeUInt16BE(ns, 8); h.writeUInt16BE(ar, 10); return h; };
  // Every one of these is unreadable to a correct parser, or not a reply to this question at all.
  const unreadable = [
    () => randomBytes(randomInt(0, 600)),
    () => { const b = Buffer.concat([head(0x8180, 1, 1, 0, 0), question, Buffer.from('c00c000100010000003c0004c0a80114', 'hex')]); b.writeUInt16BE((b.readUInt16BE(0) + 1 + randomInt(65534)) & 0xffff, 0); return b; }, // a good answer, wrong id
    () => Buffer.concat([head(0x8180, 1, 1, 0, 0), question, Buffer.from([0xc0 | ((12 + question.length) >> 8), (12 + question.length) & 0xff]), Buffer.from('000100010000003c0004c0a80114', 'hex')]), // answer name points at itself
    () => head(0x8180, 0xffff, 0xffff, 0xffff, 0xffff), // 65535 of everything in 12 bytes
    () => Buffer.concat([head(0x8180, 1, 1, 0, 0), question, Buffer.from('c00c000100010000003cffff0102', 'hex')]), // RDATA past the end
    () => Buffer.concat([head(0x0100, 1, 0, 0, 0), question]), // a query, not a response
    () => { const at = 12 + question.length; return Buffer.concat([head(0x8180, 1, 1, 0, 0), question, Buffer.from([0x01, 0x61, 0xc0 | ((at + 4) >> 8), (at + 4) & 0xff, 0xc0 | (at >> 8), at & 0xff]), Buffer.from('000100010000003c0004c0a80114', 'hex')]); }, // label then pointer forward into a pointer back: a loop
    () => Buffer.concat([head(0x8180, 1, 1, 0, 0), question, Buffer.from('c00c000100010000003c0005c0a8011401', 'hex')]), // an A record of 5 bytes
    () => Buffer.concat([head(0x8180 | (randomInt(1, 15) << 11), 1, 0, 0, 0), question]), // not opcode QUERY
  ];
  const replies = Array.from({ length: 8 }, () => pick(unreadable)());
  // A question for example.com ends with an empty truncated reply (readable): it sends the client to TCP,
  // where it meets garbage or silence, so that path is under fire too.
  if (/example/i.test(question.toString('latin1'))) replies.push(Buffer.concat([head(0x8380, 1, 0, 0, 0), question]));
  return replies;
}
const dns = dgram.createSocket('udp4');
dns.on('error', () => stats.errors++);
dns.on('message', (q, from) => {
  stats.dnsQueries++;
  for (const r of garbage(q)) { stats.dnsReplies++; dns.send(r, from.port, from.address); }
});
dns.bind(53, '0.0.0.0');

const tcpSockets = new Set();
const tcp = net.createServer((s) => {
  stats.tcpConnections++;
  tcpSockets.add(s);
  s.on('error', () => {});
  s.on('close', () => tcpSockets.delete(s));
  const choice = randomInt(3);
  if (choice === 0) s.write(Buffer.concat([Buffer.from([0xff, 0xff]), randomBytes(10)])); // claims 65535 bytes, sends 10, then silence
  else if (choice === 1) s.write(randomBytes(randomInt(1, 300)));
  // choice 2: accept and say nothing at all
});
tcp.on('error', () => stats.errors++);
tcp.listen(53, '0.0.0.0');

// ---- DHCP: a flood on 68, and unreadable offers for every DISCOVER seen on 67.
const flood = dgram.createSocket({ type: 'udp4', reuseAddr: true });
flood.on('error', () => stats.errors++);
flood.bind(67, '0.0.0.0', () => flood.setBroadcast(true));
const send = (b) => flood.send(b, 68, '255.255.255.255', (err) => { if (err) stats.errors++; });
function mutated() {
  const b = Buffer.from(offer);
  b.writeUInt32BE(randomInt(2 ** 32), 4);
  for (let i = randomInt(1, 8); i > 0; i--) {
    const at = randomInt(b.length);
    const op = randomInt(4);
    if (op === 0) b[at] = randomInt(256);
    else if (op === 1) b[at] ^= 1 << randomInt(8);
    else if (op === 2) return b.subarray(0, at);
    else b[at] = pick([0x00, 0xff, 0x34, 0x35, 0x36]);
  }
  return b;
}
/** Replies for transaction xid and MAC chaddr that the parser must refuse, every one. */
function unreadable(xid, chaddr) {
  const b = Buffer.from(offer);
  b.writeUInt32BE(xid, 4);
  chaddr.copy(b, 28);
  const out = [];
  const cookie = Buffer.from(b); cookie.writeUInt32BE(0x63825364, 236); out.push(cookie);
  const hlen = Buffer.from(b); hlen[2] = 17; out.push(hlen);
  const overrun = Buffer.concat([b.subarray(0, 240), Buffer.from([53, 1, 2, 54, 200, 192, 168])]); out.push(overrun);
  const typeLen = Buffer.concat([b.subarray(0, 240), Buffer.from([53, 2, 2, 2, 255])]); out.push(typeLen);
  const overload = Buffer.concat([b.subarray(0, 240), Buffer.from([53, 1, 2, 52, 1, 7, 255])]); out.push(overload);
  out.push(b.subarray(0, randomInt(0, 240)));
  return out;
}
flood.on('message', (m) => {
  // A DISCOVER: op 1, cookie, option 53 = 1 somewhere.
  if (m.length < 240 || m[0] !== 1 || m.readUInt32BE(236) !== 0x63825363) return;
  stats.discoversSeen++;
  const xid = m.readUInt32BE(4);
  const chaddr = m.subarray(28, 34);
  for (let round = 0; round < 5; round++) for (const r of unreadable(xid, chaddr)) { stats.discoverAnswers++; send(r); }
});
const floodTimer = setInterval(() => {
  for (let i = 0; i < 40; i++) {
    stats.dhcpFlood++;
    const k = randomInt(3);
    send(k === 0 ? randomBytes(randomInt(0, 600)) : k === 1 ? mutated() : (() => { const b = Buffer.from(offer); b.writeUInt32BE(randomInt(2 ** 32), 4); return b; })());
  }
}, 40);

function stop() {
  clearInterval(floodTimer);
  process.stdout.write(JSON.stringify(stats) + '\n', () => process.exit(0));
  for (const s of tcpSockets) s.destroy();
}
process.on('SIGTERM', stop);
setTimeout(stop, Number(lifeMs)).unref();
setInterval(() => {}, 1 << 30); // keep the loop alive until SIGTERM or the end of its life
console.error('hostile: ready');
`;

const OFFER_HEX = join(PACKAGE_ROOT, 'fixtures', 'packets', 'dhcp', 'dnsmasq-2.90-offer-router.hex');

interface HostileStats {
  dnsQueries: number;
  dnsReplies: number;
  tcpConnections: number;
  dhcpFlood: number;
  discoversSeen: number;
  discoverAnswers: number;
  errors: number;
}

/** Starts the hostile node in a lab node and resolves once it listens; `stopped` gives its figures when it ends. */
async function startHostile(lab: TestLab, node: LabNode): Promise<{ child: ChildProcess; stopped: Promise<HostileStats> }> {
  const hostile = startInNode(lab, node, [process.execPath, '--input-type=module', '-e', HOSTILE, OFFER_HEX, '60000']);
  const stopped = hostile.done.then(({ code, stdout, stderr }) => {
    try {
      return JSON.parse(stdout.trim().split('\n').pop() ?? '') as HostileStats;
    } catch {
      throw new Error(`the hostile node ended (exit ${code}) without its figures: ${stderr}`);
    }
  });
  stopped.catch(() => {}); // read by the test when it gets that far; never an unhandled rejection
  await waitFor('the hostile node to start', () => {
    if (hostile.child.exitCode !== null) throw new Error(`the hostile node exited at once: ${hostile.stderr()}`);
    return hostile.stderr().includes('hostile: ready');
  }, { timeoutMs: 10_000, intervalMs: 50, detail: () => hostile.stderr() });
  return { child: hostile.child, stopped };
}

const DEADLINE_MS = 10_000;
/** Node start-up, config, the diagnosis, printing: what a run may add to its deadline. */
const SLACK_MS = 3_000;

describeLab('a hostile LAN', (lab) => {
  it('garbage DNS at 192.168.1.10 and a DHCP flood: check ends in time, sees the real offer, calls DNS broken, exits with a code', async () => {
    await lab().fault('dns-down');
    const { child, stopped } = await startHostile(lab(), 'pi-dns');
    let r: { code: number; stdout: string; stderr: string };
    const t0 = performance.now();
    let wallMs: number;
    let figures: Awaited<typeof stopped>;
    try {
      try {
        r = await lab().runNetdoctor('client', ['check', '--json', '--no-history', '--deadline', `${DEADLINE_MS / 1000}s`], { timeoutMs: DEADLINE_MS + 30_000 });
      } finally {
        // A hostile node that already died must not turn into this test's error.
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      }
      wallMs = performance.now() - t0;
      figures = await stopped;
    } finally {
      await lab().heal();
    }

    // It ran under fire: questions were answered with garbage, the flood went out, our DISCOVERs drew unreadable offers.
    expect(figures.dnsQueries).toBeGreaterThan(0);
    expect(figures.dhcpFlood).toBeGreaterThan(100);
    expect(figures.discoversSeen).toBeGreaterThan(0);

    // Finished, in time, with a code, without a crash.
    expect(r.stderr).not.toMatch(/internal error|Uncaught|RangeError|TypeError/);
    expect([1, 2, 3]).toContain(r.code);
    expect(wallMs).toBeLessThan(DEADLINE_MS + SLACK_MS);
    const parsed = checkReportSchema.safeParse(JSON.parse(r.stdout));
    if (!parsed.success) throw new Error(`check --json does not have the documented shape:\n${parsed.error.message}`);
    const json: CheckJson = parsed.data;
    expect(json.durationMs).toBeLessThanOrEqual(DEADLINE_MS + 500);
    expect(json.status).not.toBe('ok');

    // What is real: the router's offer, and only the router as a server; the flood counted as malformed, not as servers.
    const summary = json.observations.find((o) => o.probe === 'dhcp' && o.check === 'summary');
    expect(summary, JSON.stringify(json.observations.filter((o) => o.probe === 'dhcp'))).toBeDefined();
    expect([summary!.status, summary!.reason]).toEqual(['ok', 'served']);
    const sd = summary!.data as { servers: string[]; malformed: number; ignored: number };
    const dnsReasons = json.observations.filter((o) => o.probe === 'dns' && o.check === 'query').map((o) => o.reason);
    console.log(`hostile LAN: ${figures.dnsQueries} DNS questions drew ${figures.dnsReplies} garbage replies (${figures.tcpConnections} TCP fallbacks); ` +
      `${figures.dhcpFlood} flood packets on port 68, ${figures.discoverAnswers} unreadable offers for ${figures.discoversSeen} DISCOVERs; ` +
      `check: exit ${r.code} in ${Math.round(wallMs)} ms, DHCP ${sd.malformed} malformed and ${sd.ignored} ignored datagrams, DNS reasons ${[...new Set(dnsReasons)].join('/')}, roots ${json.findings.filter((f) => f.root).map((f) => f.key).join(' ')}`);
    expect(sd.servers).toEqual(['192.168.1.1']);
    expect(sd.malformed).toBeGreaterThan(0);
    expect(json.observations.filter((o) => o.probe === 'dhcp' && o.check === 'offer').map((o) => o.subject)).toEqual(['192.168.1.1']);

    // DNS at 192.168.1.10: not one question answered well, and the server is not called healthy.
    const queries = json.observations.filter((o) => o.probe === 'dns' && o.check === 'query' && o.labels.server === '192.168.1.10');
    expect(queries.length).toBeGreaterThan(0);
    expect(queries.filter((q) => q.status === 'ok')).toEqual([]);
    // Questions that met only garbage: malformed, said as such (not a timeout, not "no such name").
    expect(queries.filter((q) => !/example/.test(q.subject)).map((q) => `${q.subject} ${q.reason}`))
      .toEqual(queries.filter((q) => !/example/.test(q.subject)).map((q) => `${q.subject} malformed`));
    // The garbage was seen and refused, not trusted: every question had replies thrown out.
    const thrownOut = (q: (typeof queries)[number]) => {
      const d = q.data as { rejected?: number; strays?: number };
      return (d.rejected ?? 0) + (d.strays ?? 0);
    };
    expect(queries.filter((q) => thrownOut(q) === 0).map((q) => q.subject)).toEqual([]);
    const server = json.observations.find((o) => o.probe === 'dns' && o.check === 'server' && o.subject === '192.168.1.10');
    expect(server?.status).not.toBe('ok');
    // …and the diagnosis puts the blame on that server.
    const roots = json.findings.filter((f) => f.root && f.severity !== 'info');
    expect(roots.filter((f) => f.labels.server === '192.168.1.10').map((f) => f.key), JSON.stringify(roots.map((f) => f.key))).not.toEqual([]);
  }, 120_000);
});
