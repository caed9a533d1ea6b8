/**
 * One place that says, for every parser that reads the network or a file,
 * what hostile input it gets and what it must do with it. The vitest suite
 * (test/fuzz/parsers.test.ts, a few thousand inputs per parser) and the
 * benchmark (bench/fuzz.ts, 100,000 per parser) both run these targets; this
 * file therefore must not import vitest.
 *
 * Every target mixes three kinds of input:
 * - generated: built from the format's own structure, so the bytes get past
 *   the cheap early checks (id, cookie, question) into the deep code, with the
 *   fields that hurt parsers lying (counts, lengths, compression pointers that
 *   loop or point forward, option overloads, quoting);
 * - mutated: recorded real packets and files from fixtures/ with bytes or
 *   characters flipped, set, inserted, deleted, duplicated or cut off;
 * - random: bytes or text with no structure at all.
 *
 * The property, for every input: the parser returns (never hangs), within a
 * time bound; nothing escapes but the parser's documented error value (and a
 * parser that swallows an unexpected exception into its generic error value
 * still counts as a failure: that is a defect hidden, not handled); what it
 * returns is well formed and not larger than a bound proportional to the
 * input; and the heap does not grow over the run. Where a parser makes a
 * promise beyond "no crash" (a ddclient password never leaves the parser,
 * text from the network carries no control characters) that is checked too.
 */
import { createHmac, randomBytes } from 'node:crypto';
import * as WG_BLAKE2S from '@noble/hashes/blake2.js';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Script, runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import fc from 'fast-check';
import { parse as yamlParse, stringify as yamlStringify } from 'yaml';
import { parseConfigText } from '../../src/config/load.js';
import type { MachineFacts } from '../../src/config/machine.js';
import { cachePathFromConf, parseDdclientCache } from '../../src/probes/net/ddclient.js';
import { encodeReply, MessageType, Opt, parseDhcpPacket, readOfferContent } from '../../src/probes/net/dhcp-packet.js';
import { MAX_ANSWERS, MAX_TCP_REPLY, parseReply, type ReplyExpectation } from '../../src/probes/net/dns-packet.js';
import { confirmedBetween, freshBetween, parseNeighJson, type NeighbourEntry } from '../../src/probes/net/neighbours.js';
import { judgeReply, parseServerPacket, parseStaticKey, tlsAuthFromKey, type TlsAuth } from '../../src/probes/net/openvpn.js';
import { HEADER_BYTES, judgeTlsCryptReply, tlsCryptKeys, unwrap, wrap } from '../../src/probes/net/openvpn-tls-crypt.js';
import { createInitiation, generateKeyPair, judgeWireGuardReply, wireguardPeer } from '../../src/probes/net/wireguard.js';
import { parsePingOutput } from '../../src/probes/net/ping.js';
import { mappingFrom, parseDescription, parseSoapAnswer } from '../../src/probes/net/igd.js';
import { parseGatewayAnswer } from '../../src/probes/net/natpmp.js';
import { parseSsdpAnswer } from '../../src/probes/net/ssdp.js';
import { ConfigError } from '../../src/shared/errors.js';
import { isIPv4 } from '../../src/shared/ipv4.js';
import { PACKAGE_ROOT } from '../../src/version.js';

// ------------------------------------------------------------------ the contract

export type InputKind = 'generated' | 'mutated' | 'random';

export interface FuzzTarget<T extends { kind: InputKind } = { kind: InputKind }> {
  /** Short name: dhcp, dns, openvpn, neighbours, ping, ddclient, config. */
  name: string;
  /** The functions under test and where they live. */
  parser: string;
  /** What the parser is documented to give back for input it cannot read. */
  errorValue: string;
  arbitrary: fc.Arbitrary<T>;
  /**
   * Runs the parser on one input and checks the property; throws a
   * {@link Violation} when it does not hold. Returns what became of the input
   * (`accepted`, or the rejection's reason), so a run can show that its
   * inputs reached the deep code and not only the first cheap check.
   */
  check(input: T): string;
  /** Outcomes that mean the input got through to the deep code (a decoded offer, a reply with records…). */
  deep: RegExp;
  /** The input, printable, for a failure report. */
  show(input: T): string;
  /** Cut off each input after this long (see FuzzOptions.cutEachMs) unless the run says otherwise: for parsers known to blow up on some inputs. */
  cutEachMs?: number;
}

/** A property that did not hold for one input. */
export class Violation extends Error {
  override name = 'Violation';
}

function violation(message: string): never {
  throw new Violation(message);
}

// ------------------------------------------------------------------ fixtures

const FIXTURES = join(PACKAGE_ROOT, 'fixtures');

function jsonFiles<T>(dir: string): Array<{ file: string; data: T }> {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ file: f, data: JSON.parse(readFileSync(join(dir, f), 'utf8')) as T }));
}

const hex = (text: string) => new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array, max = 600) => {
  const h = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
  return h.length > max * 2 ? `${h.slice(0, max * 2)}… (${b.length} bytes)` : h;
};
const showText = (t: string, max = 1500) => JSON.stringify(t.length > max ? `${t.slice(0, max)}… (${t.length} chars)` : t);

// ------------------------------------------------------------------ mutation

/** One edit of a recorded input. Positions are taken modulo the length at the time of the edit. */
type Mutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; value: number }
  | { op: 'word'; at: number; value: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; count: number }
  | { op: 'duplicate'; at: number; count: number }
  | { op: 'truncate'; at: number };

/** Byte values that mean something to the parsers: ends, pads, pointer and label bits, maxima. */
const INTERESTING_BYTES = [0x00, 0x01, 0x02, 0x03, 0x04, 0x08, 0x0c, 0x10, 0x20, 0x34, 0x35, 0x36, 0x3f, 0x40, 0x7f, 0x80, 0xc0, 0xc0 | 0x0c, 0xfe, 0xff];
const INTERESTING_WORDS = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x101, 0x3fff, 0x7fff, 0x8000, 0xc00c, 0xfffe, 0xffff];

const byteValue = fc.oneof(fc.constantFrom(...INTERESTING_BYTES), fc.integer({ min: 0, max: 255 }));
const position = fc.nat();

// Weighted so that most edits keep the length: a cut-off packet is rejected early, and the deep code needs whole ones.
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('flip' as const), at: position, bit: fc.integer({ min: 0, max: 7 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('set' as const), at: position, value: byteValue }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('word' as const), at: position, value: fc.oneof(fc.constantFrom(...INTERESTING_WORDS), fc.integer({ min: 0, max: 0xffff })) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('insert' as const), at: position, bytes: fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 16 }), fc.array(byteValue, { minLength: 1, maxLength: 8 }).map((a) => Uint8Array.from(a))) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), at: position, count: fc.integer({ min: 1, max: 16 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('duplicate' as const), at: position, count: fc.integer({ min: 1, max: 64 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: position }) },
);

export function mutateBytes(seed: Uint8Array, ops: readonly Mutation[]): Uint8Array {
  let b = Uint8Array.from(seed);
  for (const m of ops) {
    const at = b.length === 0 ? 0 : m.at % (b.length + (m.op === 'insert' || m.op === 'truncate' ? 1 : 0));
    switch (m.op) {
      case 'flip':
        if (b.length) b[at] ^= 1 << m.bit;
        break;
      case 'set':
        if (b.length) b[at] = m.value;
        break;
      case 'word':
        if (b.length >= 2) {
          const w = Math.min(at, b.length - 2);
          b[w] = m.value >> 8;
          b[w + 1] = m.value & 0xff;
        }
        break;
      case 'insert': {
        const out = new Uint8Array(b.length + m.bytes.length);
        out.set(b.subarray(0, at));
        out.set(m.bytes, at);
        out.set(b.subarray(at), at + m.bytes.length);
        b = out;
        break;
      }
      case 'delete': {
        const removed = Math.min(m.count, b.length - at);
        const out = new Uint8Array(b.length - removed);
        out.set(b.subarray(0, at));
        out.set(b.subarray(at + removed), at);
        b = out;
        break;
      }
      case 'duplicate': {
        const piece = b.subarray(at, at + m.count);
        const out = new Uint8Array(b.length + piece.length);
        out.set(b.subarray(0, at + piece.length));
        out.set(piece, at + piece.length);
        out.set(b.subarray(at + piece.length), at + 2 * piece.length);
        b = out;
        break;
      }
      case 'truncate':
        b = b.subarray(0, at);
        break;
    }
  }
  return b;
}

/** Recorded inputs with 0-8 edits (0 keeps the recording itself in the mix). */
function mutatedBytes(seeds: readonly Uint8Array[]): fc.Arbitrary<{ seed: number; bytes: Uint8Array }> {
  return fc
    .tuple(fc.integer({ min: 0, max: seeds.length - 1 }), fc.array(mutationArb, { minLength: 0, maxLength: 8 }))
    .map(([seed, ops]) => ({ seed, bytes: mutateBytes(seeds[seed], ops) }));
}

/** The same edits on text, with insertions drawn from a dictionary of tokens that matter to that format. */
function mutatedText(seeds: readonly string[], dictionary: readonly string[]): fc.Arbitrary<string> {
  const token = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...dictionary) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
  );
  const edit = fc.oneof(
    { weight: 3, arbitrary: fc.record({ op: fc.constant('insert' as const), at: position, text: token }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('replace' as const), at: position, count: fc.integer({ min: 1, max: 12 }), text: token }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), at: position, count: fc.integer({ min: 1, max: 24 }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('duplicate' as const), at: position, count: fc.integer({ min: 1, max: 200 }), times: fc.integer({ min: 1, max: 20 }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: position }) },
  );
  return fc.tuple(fc.constantFrom(...seeds), fc.array(edit, { minLength: 0, maxLength: 6 })).map(([seed, edits]) => {
    let t = seed;
    for (const e of edits) {
      const at = e.at % (t.length + 1);
      if (e.op === 'insert') t = t.slice(0, at) + e.text + t.slice(at);
      else if (e.op === 'replace') t = t.slice(0, at) + e.text + t.slice(at + e.count);
      else if (e.op === 'delete') t = t.slice(0, at) + t.slice(at + e.count);
      else if (e.op === 'duplicate') t = t.slice(0, at + e.count) + t.slice(at, at + e.count).repeat(e.times) + t.slice(at + e.count);
      else t = t.slice(0, at);
    }
    return t;
  });
}

function tagged<T extends object>(kind: InputKind, arb: fc.Arbitrary<T>): fc.Arbitrary<T & { kind: InputKind }> {
  return arb.map((v) => ({ ...v, kind }));
}

/** The value one time in `oneIn`, null otherwise: for fields that should lie now and then, not usually. */
function rarely<T>(arb: fc.Arbitrary<T>, oneIn: number): fc.Arbitrary<T | null> {
  return fc.oneof({ weight: oneIn - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb });
}

/** generated : mutated : random = 4 : 4 : 2 */
function mix<T extends { kind: InputKind }>(generated: fc.Arbitrary<T>, mutated: fc.Arbitrary<T>, random: fc.Arbitrary<T>): fc.Arbitrary<T> {
  return fc.oneof({ weight: 4, arbitrary: generated }, { weight: 4, arbitrary: mutated }, { weight: 2, arbitrary: random });
}

const randomBytesArb = fc.oneof(
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 16 }) },
  { weight: 3, arbitrary: fc.uint8Array({ minLength: 12, maxLength: 600 }) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 600, maxLength: 5000 }) },
);

/** Printable ASCII only: what text from the network must be reduced to before it reaches a terminal. */
function assertPrintable(what: string, text: string | undefined): void {
  // eslint-disable-next-line no-control-regex
  if (text !== undefined && /[^\x20-\x7e…]/.test(text)) violation(`${what} carries a control or non-ASCII character: ${JSON.stringify(text)}`);
}

function assertIp(what: string, ip: unknown): void {
  if (typeof ip !== 'string' || !isIPv4(ip)) violation(`${what} is not an IPv4 address: ${JSON.stringify(ip)}`);
}

/** Output no larger than a fixed allowance plus a multiple of the input: a parser must not amplify. */
function assertBounded(what: string, output: unknown, inputSize: number, factor = 64): void {
  const size = JSON.stringify(output, (_k, v: unknown) => (v instanceof Map ? [...v.entries()] : v instanceof Uint8Array ? v.length : v))?.length ?? 0;
  const limit = 64 * 1024 + factor * inputSize;
  if (size > limit) violation(`${what} is ${size} bytes of output for ${inputSize} bytes of input (limit ${limit})`);
}

// ------------------------------------------------------------------ DHCP

interface DhcpInput {
  kind: InputKind;
  bytes: Uint8Array;
}

const DHCP_SEEDS: Uint8Array[] = [
  ...readdirSync(join(FIXTURES, 'packets', 'dhcp')).filter((f) => f.endsWith('.hex')).sort().map((f) => hex(readFileSync(join(FIXTURES, 'packets', 'dhcp', f), 'utf8'))),
  // An offer with every option the reader checks, and one with the overload option pointing into sname and file.
  encodeReply({
    type: MessageType.OFFER, xid: 0x4e440001, mac: '02:4e:44:00:00:01', yiaddr: '192.168.1.169', siaddr: '192.168.1.1',
    options: [[Opt.SERVER_ID, [192, 168, 1, 1]], [Opt.SUBNET_MASK, [255, 255, 255, 0]], [Opt.ROUTER, [192, 168, 1, 1, 192, 168, 1, 2]],
      [Opt.DNS, [192, 168, 1, 10]], [Opt.NTP, [192, 168, 1, 1]], [Opt.LEASE_TIME, [0, 0, 0xa8, 0xc0]], [Opt.RENEWAL_T1, [0, 0, 0x54, 0x60]],
      [Opt.REBINDING_T2, [0, 0, 0x93, 0xa8]], [Opt.DOMAIN_NAME, [...Buffer.from('home')]], [Opt.BROADCAST, [192, 168, 1, 255]],
      [Opt.MESSAGE, [...Buffer.from('hello')]]],
  }),
  (() => {
    const b = encodeReply({ type: MessageType.OFFER, xid: 1, mac: '02:00:00:00:00:01', yiaddr: '192.168.1.100', options: [[Opt.OVERLOAD, [3]]] });
    b.set([Opt.SERVER_ID, 4, 192, 168, 1, 1, Opt.END], 108); // file
    b.set([Opt.DOMAIN_NAME, 3, 0x61, 0x62, 0x63, Opt.END], 44); // sname
    return b;
  })(),
];

const DHCP_OPTION_CODES = [Opt.PAD, Opt.END, Opt.MESSAGE_TYPE, Opt.SERVER_ID, Opt.SUBNET_MASK, Opt.ROUTER, Opt.DNS, Opt.DOMAIN_NAME, Opt.BROADCAST, Opt.NTP, Opt.LEASE_TIME, Opt.RENEWAL_T1, Opt.REBINDING_T2, Opt.MESSAGE, Opt.OVERLOAD, 61, 55, 12, 81, 121, 249];

/** An options area: options whose length byte may lie, pads, ends, overload values out of range. */
const dhcpOptionsArb: fc.Arbitrary<number[]> = fc
  .array(
    fc.oneof(
      { weight: 6, arbitrary: fc.record({ code: fc.oneof(fc.constantFrom(...DHCP_OPTION_CODES), fc.integer({ min: 0, max: 255 })), value: fc.oneof(fc.uint8Array({ maxLength: 12 }), fc.uint8Array({ maxLength: 255 })), lie: rarely(fc.integer({ min: 0, max: 255 }), 4) }).map(({ code, value, lie }) => [code, lie ?? value.length, ...value]) },
      { weight: 1, arbitrary: fc.constantFrom([Opt.PAD], [Opt.END], [Opt.MESSAGE_TYPE, 1, MessageType.OFFER], [Opt.OVERLOAD, 1, 1], [Opt.OVERLOAD, 1, 2], [Opt.OVERLOAD, 1, 3], [Opt.OVERLOAD, 1, 0], [Opt.OVERLOAD, 1, 4], [Opt.OVERLOAD, 2, 3, 3], [Opt.MESSAGE_TYPE, 0], [Opt.MESSAGE_TYPE, 2, 2, 2]) },
    ),
    { maxLength: 24 },
  )
  .map((opts) => opts.flat());

const dhcpGenerated: fc.Arbitrary<DhcpInput> = fc
  .record({
    op: fc.oneof(fc.constantFrom(2, 2, 2, 1), fc.integer({ min: 0, max: 255 })),
    hlen: fc.oneof(fc.constantFrom(6, 6, 16, 17, 0, 255), fc.integer({ min: 0, max: 255 })),
    header: fc.uint8Array({ minLength: 236, maxLength: 236 }),
    cookie: fc.oneof({ weight: 9, arbitrary: fc.constant(0x63825363) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffffffff }) }),
    options: dhcpOptionsArb,
    sname: rarely(dhcpOptionsArb, 3),
    file: rarely(dhcpOptionsArb, 3),
    cut: rarely(fc.nat(), 5),
  })
  .map(({ op, hlen, header, cookie, options, sname, file, cut }) => {
    const b = new Uint8Array(240 + options.length);
    b.set(header);
    b[0] = op;
    b[2] = hlen;
    if (sname) b.set(sname.slice(0, 64), 44);
    if (file) b.set(file.slice(0, 128), 108);
    new DataView(b.buffer).setUint32(236, cookie >>> 0);
    b.set(options, 240);
    return { kind: 'generated' as const, bytes: cut === null ? b : b.subarray(0, cut % (b.length + 1)) };
  });

export const dhcpTarget: FuzzTarget<DhcpInput> = {
  name: 'dhcp',
  parser: 'parseDhcpPacket + readOfferContent (src/probes/net/dhcp-packet.ts)',
  errorValue: '{ ok: false, error } from parseDhcpPacket; malformed options listed in OfferContent.invalid',
  deep: /^(offer|accepted)/,
  arbitrary: mix(dhcpGenerated, tagged('mutated', mutatedBytes(DHCP_SEEDS)), tagged('random', fc.record({ bytes: randomBytesArb }))),
  check({ bytes }) {
    const parsed = parseDhcpPacket(bytes);
    if (!parsed.ok) {
      if (typeof parsed.error !== 'string' || parsed.error === '') violation('rejected without a reason');
      // parseDhcpPacket's last-resort catch: reaching it means a read was not bounds-checked.
      if (parsed.error.startsWith('unreadable packet')) violation(`an exception escaped the bounds checks: ${parsed.error}`);
      return `rejected: ${parsed.error.replace(/[\d]+/g, 'N').replace(/ \(found .*$/, '').slice(0, 40)}`;
    }
    const p = parsed.packet;
    assertIp('yiaddr', p.yiaddr);
    if (p.hlen > 16) violation(`accepted hlen ${p.hlen}`);
    assertPrintable('sname', p.sname);
    assertPrintable('file', p.file);
    const content = readOfferContent(p);
    assertIp('offeredIp', content.offeredIp);
    for (const [what, ip] of [['serverId', content.serverId], ['subnetMask', content.subnetMask], ['broadcast', content.broadcast]] as const) {
      if (ip !== undefined) assertIp(what, ip);
    }
    for (const ip of [...content.router, ...content.dns, ...content.ntp]) assertIp('an address list entry', ip);
    // Text a rogue server sends ends up in summaries on a terminal: it must be escaped.
    assertPrintable('domain', content.domain);
    assertPrintable('message', content.message);
    for (const s of content.invalid) assertPrintable('an invalid-option note', s);
    for (const n of [content.leaseSeconds, content.renewalSeconds, content.rebindingSeconds]) {
      if (n !== undefined && !(Number.isInteger(n) && n >= 0 && n <= 0xffffffff)) violation(`a time option is ${n}`);
    }
    assertBounded('the parsed packet', { p, content }, bytes.length);
    return p.messageType === MessageType.OFFER ? (content.invalid.length ? 'offer with invalid options' : 'offer') : 'accepted, not an offer';
  },
  show: ({ kind, bytes }) => `${kind} ${toHex(bytes)}`,
};

// ------------------------------------------------------------------ DNS

interface DnsInput {
  kind: InputKind;
  bytes: Uint8Array;
  expect: ReplyExpectation;
}

interface RecordedDns {
  transport: 'udp' | 'tcp';
  question: { id: number; name: string; type: 'A' | 'PTR' | 'AAAA' | 'CNAME' | 'TXT' | 'SOA' };
  reply: string;
}

const DNS_SEEDS = jsonFiles<RecordedDns>(join(FIXTURES, 'packets', 'dns')).map(({ data }) => ({
  bytes: hex(data.reply),
  expect: { id: data.question.id, question: { name: data.question.name, type: data.question.type }, ...(data.transport === 'tcp' ? { maxSize: MAX_TCP_REPLY } : {}) } as ReplyExpectation,
}));

/** Hostile replies nobody records: self-pointing and mutually pointing names, counts far beyond the bytes. */
const DNS_HOSTILE: Array<{ bytes: Uint8Array; expect: ReplyExpectation }> = (() => {
  const expect: ReplyExpectation = { id: 0x1234, question: { name: 'x', type: 'A' } };
  const q = '01780000010001';
  return [
    '123481800001000100000000' + 'c00c00010001', // the question's name is a pointer to itself
    '123481800001000100000000' + q + 'c01200010001000000000004c0a80101', // an answer whose name points to itself
    '123481800001000200000000' + q + '0161c01d00010001000000000004c0a80101' + 'c01100010001000000000004c0a80101', // label then pointer forward, pointer back into it: a loop
    '12348180ffffffffffffffff', // 65535 records per section in 12 bytes (dns2 spends seconds on this)
    '123481800001ffff00000000' + q + 'c00c00010001000000000004c0a80101'.repeat(300),
    '123481800001000100000000' + q + 'c00c0005000100000000ffff', // RDLENGTH past the end
    '123481800001000100000000' + q + 'c00c000500010000000000 02c00c'.replace(' ', ''), // CNAME whose target points back at the owner
    '123481800001000100000000' + q + '3f'.repeat(1) + '61'.repeat(63) + '3f' + '61'.repeat(63) + '3f' + '61'.repeat(63) + '3f' + '61'.repeat(63) + '3f' + '61'.repeat(63) + '00' + '00010001000000000004c0a80101', // a name over 255 bytes
    '1234818000010001000000000178c000' + '0001' + '0001', // pointer to offset 0 inside the question
  ].map((h) => ({ bytes: hex(h), expect }));
})();

const DNS_TYPE_CODES = [1, 2, 5, 6, 12, 15, 16, 28, 33, 41, 255, 0];

/** Labels, then how the name ends: the root, a pointer (backwards, to itself, forwards, anywhere), reserved bits, or nothing. */
const nameSpecArb = fc.record({
  labels: fc.array(fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('x', 'pi-vpn', 'home', 'A', 'in-addr', 'arpa') },
    { weight: 3, arbitrary: fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 63 }) },
    { weight: 1, arbitrary: fc.string({ minLength: 64, maxLength: 70 }) },
  ), { maxLength: 6 }),
  // Mostly names that end well, so that whole messages get through to the record decoders.
  end: fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom('root', 'question', 'back') },
    { weight: 2, arbitrary: fc.constantFrom('self', 'forward', 'anywhere', 'reserved', 'cut') },
  ),
  anywhere: fc.integer({ min: 0, max: 0x3fff }),
});

type NameSpec = { labels: string[]; end: string; anywhere: number };

const GOOD_ENDS = new Set(['root', 'question', 'back']);

/** Where earlier names start and how long each is on the wire (a pointer to one adds that much). */
type NameTable = Array<{ at: number; wire: number }>;

/**
 * A name written at offset `at`. A `back` pointer goes to the start of an
 * earlier name, as a server's compression does. In a `clean` message every
 * name ends well, its labels fit and it stays within 255 bytes, so the
 * message gets through to the record decoders.
 */
function encodeName(spec: NameSpec, at: number, names: NameTable, clean: boolean): number[] {
  const out: number[] = [];
  let wire = 1;
  for (const label of spec.labels) {
    const bytes = [...Buffer.from(label, 'latin1')].slice(0, clean ? 20 : 255);
    out.push(bytes.length & 0xff, ...bytes);
    wire += bytes.length + 1;
  }
  const here = at + out.length;
  const pointer = (to: number) => out.push(0xc0 | ((to >> 8) & 0x3f), to & 0xff);
  const end = clean && !GOOD_ENDS.has(spec.end) ? 'root' : spec.end;
  const earlier = names.filter((n) => n.at < here && (!clean || n.wire + wire <= 255));
  let total = wire;
  switch (end) {
    case 'root': out.push(0); break;
    case 'question': if (here > 12 && names[0]?.at === 12) { pointer(12); total += names[0].wire - 1; } else out.push(0); break;
    case 'back': {
      const to = earlier[spec.anywhere % Math.max(1, earlier.length)];
      if (to) {
        pointer(to.at);
        total += to.wire - 1;
      } else out.push(0);
      break;
    }
    case 'self': pointer(here); break;
    case 'forward': pointer(here + 2 + (spec.anywhere % 64)); break;
    case 'anywhere': pointer(spec.anywhere); break;
    case 'reserved': out.push(0x40 | (spec.anywhere & 0x3f), 0); break;
    case 'cut': break;
  }
  names.push({ at, wire: total });
  return out;
}

type RData = { raw: number[] } | { name: NameSpec } | { pref: number; name: NameSpec };

const dnsRecordArb = fc.record({
  name: nameSpecArb,
  type: fc.oneof(fc.constantFrom(...DNS_TYPE_CODES), fc.integer({ min: 0, max: 0xffff })),
  cls: fc.constantFrom(1, 1, 1, 3, 255, 0xffff),
  ttl: fc.oneof(fc.constantFrom(0, 300, 0x7fffffff, 0x80000000, 0xffffffff), fc.integer({ min: 0, max: 0xffffffff })),
  rdata: fc.oneof<Array<fc.WeightedArbitrary<RData>>>(
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 40 }).map((b) => ({ raw: [...b] as number[] })) },
    { weight: 2, arbitrary: fc.constantFrom(4, 16).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })).map((b) => ({ raw: [...b] as number[] })) },
    { weight: 2, arbitrary: nameSpecArb.map((n) => ({ name: n })) },
    { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 0xffff }), nameSpecArb).map(([pref, n]) => ({ pref, name: n })) },
    { weight: 1, arbitrary: fc.array(fc.string({ unit: 'binary', maxLength: 40 }), { maxLength: 4 }).map((parts) => ({ raw: parts.flatMap((p) => { const b = [...Buffer.from(p, 'utf8')].slice(0, 255); return [b.length, ...b]; }) })) },
  ),
  rdLie: rarely(fc.oneof(fc.constantFrom(0, 1, 3, 5, 0xffff), fc.integer({ min: 0, max: 0xffff })), 12),
});

const dnsGenerated: fc.Arbitrary<DnsInput> = fc
  .record({
    id: fc.integer({ min: 0, max: 0xffff }),
    question: fc.constantFrom<ReplyExpectation['question']>({ name: 'pi-vpn.home', type: 'A' }, { name: 'x', type: 'A' }, { name: '10.1.168.192.in-addr.arpa', type: 'PTR' }, { name: 'example.com', type: 'AAAA' }, { name: 'home.dyn.example.net', type: 'TXT' }),
    flags: fc.oneof({ weight: 12, arbitrary: fc.constantFrom(0x8180, 0x8183, 0x8185, 0x8182, 0x8380, 0x8580) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) }),
    qd: fc.oneof({ weight: 14, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.constantFrom(0, 2, 0xffff) }),
    questionName: fc.oneof({ weight: 12, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: nameSpecArb }),
    qtypeLie: rarely(fc.integer({ min: 0, max: 0xffff }), 14),
    records: fc.array(dnsRecordArb, { maxLength: 12 }),
    counts: rarely(fc.tuple(...[0, 1, 2].map(() => fc.oneof(fc.constantFrom(0, 1, 2, 255, 256, 257, 0xffff), fc.integer({ min: 0, max: 0xffff })))), 6),
    split: fc.tuple(fc.nat(), fc.nat()),
    tcp: fc.boolean(),
    trailer: fc.uint8Array({ maxLength: 8 }),
    cut: rarely(fc.nat(), 10),
    clean: fc.oneof({ weight: 2, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  })
  .map((g) => {
    const out: number[] = [];
    const names: NameTable = [];
    const word = (n: number) => out.push((n >> 8) & 0xff, n & 0xff);
    const long = (n: number) => out.push((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
    const nAn = g.records.length ? g.split[0] % (g.records.length + 1) : 0;
    const nNs = g.records.length - nAn ? g.split[1] % (g.records.length - nAn + 1) : 0;
    const nAr = g.records.length - nAn - nNs;
    const [an, ns, ar] = g.counts ?? [nAn, nNs, nAr];
    word(g.id);
    word(g.flags);
    word(g.qd);
    word(an);
    word(ns);
    word(ar);
    if (g.qd > 0) {
      const labels = g.question.name.split('.').map((l, i) => (i === 0 && g.id & 1 ? l.toUpperCase() : l));
      out.push(...(g.questionName ? encodeName(g.questionName, out.length, names, false) : encodeName({ labels, end: 'root', anywhere: 0 }, out.length, names, true)));
      word(g.qtypeLie ?? { A: 1, PTR: 12, AAAA: 28, TXT: 16, CNAME: 5 }[g.question.type as string] ?? 1);
      word(1);
    }
    for (const r of g.records) {
      out.push(...encodeName(r.name, out.length, names, g.clean));
      word(r.type);
      word(r.cls);
      long(r.ttl);
      const rdStart = out.length + 2;
      // A clean message gives each record the RDATA its type calls for.
      const shaped: RData = !g.clean ? r.rdata
        : r.type === 1 || r.type === 28 ? { raw: [...('raw' in r.rdata ? r.rdata.raw : []), ...new Array<number>(16).fill(7)].slice(0, r.type === 1 ? 4 : 16) }
        : r.type === 2 || r.type === 5 || r.type === 12 ? { name: 'name' in r.rdata ? r.rdata.name : { labels: ['target'], end: 'root', anywhere: 0 } }
        : r.rdata;
      const rd = 'raw' in shaped ? shaped.raw
        : 'pref' in shaped ? [(shaped.pref >> 8) & 0xff, shaped.pref & 0xff, ...encodeName(shaped.name, rdStart + 2, names, g.clean)]
        : encodeName(shaped.name, rdStart, names, g.clean);
      word(r.rdLie ?? rd.length);
      out.push(...rd);
    }
    out.push(...g.trailer);
    const bytes = Uint8Array.from(out);
    return {
      kind: 'generated' as const,
      bytes: g.cut === null ? bytes : bytes.subarray(0, g.cut % (bytes.length + 1)),
      expect: { id: g.id, question: g.question, ...(g.tcp ? { maxSize: MAX_TCP_REPLY } : {}) },
    };
  });

const DNS_ALL_SEEDS = [...DNS_SEEDS, ...DNS_HOSTILE];

const dnsMutated: fc.Arbitrary<DnsInput> = mutatedBytes(DNS_ALL_SEEDS.map((s) => s.bytes)).map(({ seed, bytes }) => ({
  kind: 'mutated' as const,
  bytes,
  expect: DNS_ALL_SEEDS[seed].expect,
}));

/** Random bytes, half of them carrying the expected id so they get past the first gate. */
const dnsRandom: fc.Arbitrary<DnsInput> = fc.tuple(randomBytesArb, fc.boolean(), fc.constantFrom(...DNS_ALL_SEEDS.map((s) => s.expect))).map(([bytes, ours, expect]) => {
  const b = Uint8Array.from(bytes);
  if (ours && b.length >= 4) {
    b[0] = expect.id >> 8;
    b[1] = expect.id & 0xff;
    b[2] = (b[2] | 0x80) & 0x87; // QR, opcode QUERY
  }
  return { kind: 'random' as const, bytes: b, expect };
});

export const dnsTarget: FuzzTarget<DnsInput> = {
  name: 'dns',
  parser: 'parseReply, the gate in front of dns2 and dns2\'s record decoders (src/probes/net/dns-packet.ts)',
  errorValue: '{ ok: false, kind: stray | malformed, reason, detail }',
  deep: /^accepted/,
  arbitrary: mix(dnsGenerated, dnsMutated, dnsRandom),
  check({ bytes, expect }) {
    const verdict = parseReply(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), expect);
    if (!verdict.ok) {
      if (verdict.kind !== 'stray' && verdict.kind !== 'malformed') violation(`unknown verdict kind ${String(verdict.kind)}`);
      if (!verdict.detail) violation(`rejected (${verdict.reason}) without a detail`);
      // parseReply's last-resort catch: an exception from dns2 or a read the gate did not bound.
      if (verdict.detail.startsWith('unexpected:')) violation(`an exception got past the gate: ${verdict.detail}`);
      return `${verdict.kind}: ${verdict.reason}`;
    }
    const r = verdict.reply;
    if (r.id !== expect.id) violation(`accepted a reply with id ${r.id}, ${expect.id} was asked`);
    if (r.answers.length > MAX_ANSWERS) violation(`${r.answers.length} answers decoded`);
    for (const a of r.answers) {
      if (typeof a.name !== 'string' || typeof a.data !== 'string') violation(`an answer is not text: ${JSON.stringify(a)}`);
      if (a.name.length > 255 * 4) violation(`an answer name of ${a.name.length} characters`);
      if (a.typeCode === 1 && !isIPv4(a.data)) violation(`an A record reads as ${JSON.stringify(a.data)}`);
      if (!(Number.isInteger(a.ttl) && a.ttl >= 0 && a.ttl <= 0x7fffffff)) violation(`ttl ${a.ttl}`);
      assertPrintable('an answer name', a.name);
      assertPrintable('an answer value', a.data);
    }
    assertPrintable('the echoed question', r.question?.name);
    if (!/^[A-Z0-9]+$/.test(r.rcodeName) || r.rcode < 0 || r.rcode > 0xfff) violation(`rcode ${r.rcode} ${JSON.stringify(r.rcodeName)}`);
    assertBounded('the decoded reply', r, bytes.length);
    return r.answers.length ? 'accepted with answers' : 'accepted, no answers';
  },
  show: ({ kind, bytes, expect }) => `${kind} ${toHex(bytes)} expecting ${JSON.stringify(expect)}`,
};

// ------------------------------------------------------------------ OpenVPN

interface OpenvpnInput {
  kind: InputKind;
  bytes: Uint8Array;
  sessionId: Buffer;
  signed: boolean;
}

interface RecordedOpenvpn {
  clientSessionId: string;
  reply: string;
  transport: 'udp' | 'tcp';
  tlsAuth?: { keyFile: string; direction: 0 | 1; digest: 'SHA1' };
}

const OVPN_DIR = join(FIXTURES, 'packets', 'openvpn');
const OVPN_KEY = parseStaticKey(readFileSync(join(OVPN_DIR, 'throwaway-ta.key'), 'utf8'));
/** The client's view of the recorded tls-auth server (client key-direction 1). */
const OVPN_AUTH: TlsAuth = tlsAuthFromKey(OVPN_KEY, 1, 'SHA1');
const OVPN_SEEDS = jsonFiles<RecordedOpenvpn>(OVPN_DIR).map(({ data }) => ({
  // Over TCP the parser is handed one frame, without its 2-byte length.
  bytes: data.transport === 'tcp' ? hex(data.reply).subarray(2) : hex(data.reply),
  sessionId: Buffer.from(data.clientSessionId, 'hex'),
  signed: data.tlsAuth !== undefined,
}));

const OPENVPN_OPCODES = [8, 8, 8, 4, 5, 7, 1, 2, 3, 6, 9, 10, 0, 31];

const openvpnGenerated: fc.Arbitrary<OpenvpnInput> = fc
  .record({
    opcode: fc.oneof(fc.constantFrom(...OPENVPN_OPCODES), fc.integer({ min: 0, max: 31 })),
    keyId: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 7 }) }),
    serverSession: fc.uint8Array({ minLength: 8, maxLength: 8 }),
    sessionId: fc.uint8Array({ minLength: 8, maxLength: 8 }),
    signed: fc.boolean(),
    signature: fc.constantFrom('valid', 'valid', 'random', 'short'),
    packetId: fc.integer({ min: 0, max: 0xffffffff }),
    time: fc.integer({ min: 0, max: 0xffffffff }),
    acks: fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffffffff })), { maxLength: 10 }),
    ackCountLie: rarely(fc.oneof(fc.constantFrom(0, 1, 8, 9, 255), fc.integer({ min: 0, max: 255 })), 5),
    remote: fc.constantFrom('ours', 'ours', 'other', 'missing'),
    messageId: fc.option(fc.integer({ min: 0, max: 0xffffffff }), { freq: 6 }),
    payload: fc.uint8Array({ maxLength: 64 }),
    cut: rarely(fc.nat(), 6),
  })
  .map((g) => {
    const sessionId = Buffer.from(g.sessionId);
    const head = Buffer.from([(g.opcode << 3) | g.keyId, ...g.serverSession]);
    const rest: number[] = [g.ackCountLie ?? g.acks.length];
    for (const a of g.acks) rest.push((a >>> 24) & 0xff, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff);
    if (g.remote === 'ours') rest.push(...sessionId);
    else if (g.remote === 'other') rest.push(...randomBytes(8));
    if (g.messageId !== null) rest.push((g.messageId >>> 24) & 0xff, (g.messageId >>> 16) & 0xff, (g.messageId >>> 8) & 0xff, g.messageId & 0xff);
    rest.push(...g.payload);
    let bytes: Buffer;
    if (g.signed) {
      const replay = Buffer.alloc(8);
      replay.writeUInt32BE(g.packetId >>> 0, 0);
      replay.writeUInt32BE(g.time >>> 0, 4);
      const body = Buffer.from(rest);
      const mac = g.signature === 'valid'
        ? createHmac('sha1', OVPN_AUTH.receiveKey).update(replay).update(head).update(body).digest()
        : g.signature === 'short' ? randomBytes(7) : randomBytes(20);
      bytes = Buffer.concat([head, mac, replay, body]);
    } else {
      bytes = Buffer.concat([head, Buffer.from(rest)]);
    }
    const b = new Uint8Array(bytes);
    return { kind: 'generated' as const, bytes: g.cut === null ? b : b.subarray(0, g.cut % (b.length + 1)), sessionId, signed: g.signed };
  });

export const openvpnTarget: FuzzTarget<OpenvpnInput> = {
  name: 'openvpn',
  parser: 'parseServerPacket + judgeReply, plain and tls-auth (src/probes/net/openvpn.ts)',
  errorValue: '{ ok: false, why } from parseServerPacket; { answer: false, why } from judgeReply',
  deep: /^(an answer|parsed)/,
  arbitrary: mix(
    openvpnGenerated,
    mutatedBytes(OVPN_SEEDS.map((s) => s.bytes)).map(({ seed, bytes }) => ({ kind: 'mutated' as const, bytes, sessionId: OVPN_SEEDS[seed].sessionId, signed: OVPN_SEEDS[seed].signed })),
    fc.tuple(randomBytesArb, fc.boolean()).map(([bytes, signed]) => ({ kind: 'random' as const, bytes, sessionId: OVPN_SEEDS[0].sessionId, signed })),
  ),
  check({ bytes, sessionId, signed }) {
    const auth = signed ? OVPN_AUTH : undefined;
    const parsed = parseServerPacket(bytes, auth);
    if (!parsed.ok && !parsed.why) violation('rejected without a reason');
    if (parsed.ok) {
      const p = parsed.packet;
      if (p.acks.length > 8) violation(`${p.acks.length} acks accepted`);
      if (p.payloadBytes < 0) violation(`payload of ${p.payloadBytes} bytes`);
      if (signed && typeof p.hmacValid !== 'boolean') violation('a tls-auth packet without an HMAC verdict');
    }
    const judged = judgeReply(bytes, sessionId, auth);
    if (judged.answer) {
      // An independent oracle for "the server answered us": what the wire format says such a reply is.
      if (bytes[0] !== 0x40) violation(`judged an answer, but the first byte is 0x${bytes[0].toString(16)}, not HARD_RESET_SERVER_V2/key 0`);
      if (!Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes(sessionId)) violation('judged an answer that does not name our session');
      if (signed && !(parsed.ok && parsed.packet.hmacValid)) violation('judged an answer whose HMAC did not verify');
      if (!/^[0-9a-f]{16}$/.test(judged.serverSessionId)) violation(`server session id ${judged.serverSessionId}`);
      return 'an answer to us';
    }
    if (!judged.why) violation('not an answer, without a reason');
    return parsed.ok ? `parsed, not ours: ${judged.why.replace(/\d+/g, 'N').slice(0, 40)}` : `rejected: ${parsed.why.replace(/\d+/g, 'N').slice(0, 40)}`;
  },
  show: ({ kind, bytes, sessionId, signed }) => `${kind} ${toHex(bytes)} session ${sessionId.toString('hex')}${signed ? ' tls-auth' : ''}`,
};

// ------------------------------------------------------------------ tls-crypt

/** A fixed throwaway key (never a real one): the server wraps with its half, the client unwraps with its own. */
const TC_KEY = Buffer.from(Array.from({ length: 256 }, (_, i) => (i * 73 + 11) & 0xff));
const TC_SERVER = tlsCryptKeys(TC_KEY, 'server');
const TC_CLIENT = tlsCryptKeys(TC_KEY, 'client');
const TC_OTHER = tlsCryptKeys(Buffer.from(TC_KEY.map((b) => b ^ 0x5a)), 'server');
const TC_SESSION = Buffer.from('0123456789abcdef', 'hex');

interface BytesInput {
  kind: InputKind;
  bytes: Uint8Array;
}

/** A server reset (or a lie about one), wrapped with the right key, another key, or a random tag. */
const tlsCryptGenerated: fc.Arbitrary<BytesInput> = fc
  .record({
    opcode: fc.oneof(fc.constantFrom(8, 8, 4, 5, 7, 10), fc.integer({ min: 0, max: 31 })),
    acks: fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffffffff })), { maxLength: 10 }),
    ackCountLie: rarely(fc.integer({ min: 0, max: 255 }), 5),
    remote: fc.constantFrom('ours', 'ours', 'other', 'missing'),
    payload: fc.uint8Array({ maxLength: 64 }),
    keys: fc.constantFrom('right', 'right', 'other', 'random-tag'),
    cut: rarely(fc.nat(), 6),
  })
  .map((g) => {
    const header = Buffer.alloc(HEADER_BYTES);
    header[0] = g.opcode << 3;
    randomBytes(16).copy(header, 1);
    const plain: number[] = [g.ackCountLie ?? g.acks.length];
    for (const a of g.acks) plain.push((a >>> 24) & 0xff, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff);
    if (g.remote === 'ours') plain.push(...TC_SESSION);
    else if (g.remote === 'other') plain.push(...randomBytes(8));
    plain.push(0, 0, 0, 0, ...g.payload);
    let bytes = wrap(g.keys === 'other' ? TC_OTHER : TC_SERVER, header, Buffer.from(plain));
    if (g.keys === 'random-tag') randomBytes(32).copy(bytes, HEADER_BYTES);
    if (g.cut !== null) bytes = bytes.subarray(0, g.cut % (bytes.length + 1));
    return { kind: 'generated' as const, bytes: new Uint8Array(bytes) };
  });

const TC_SEEDS = fc.sample(tlsCryptGenerated, { numRuns: 8, seed: 42 }).map((s) => s.bytes);

export const tlsCryptTarget: FuzzTarget<BytesInput> = {
  name: 'tls-crypt',
  parser: 'unwrap + judgeTlsCryptReply (src/probes/net/openvpn-tls-crypt.ts)',
  errorValue: '{ ok: false, why } from unwrap; { answer: false, why, wrongKey? } from judgeTlsCryptReply',
  deep: /^(an answer|unwrapped)/,
  arbitrary: mix(
    tlsCryptGenerated,
    mutatedBytes(TC_SEEDS).map(({ bytes }) => ({ kind: 'mutated' as const, bytes })),
    randomBytesArb.map((bytes) => ({ kind: 'random' as const, bytes })),
  ),
  check({ bytes }) {
    const u = unwrap(TC_CLIENT, bytes);
    if (!u.ok && !u.why) violation('rejected without a reason');
    if (u.ok && u.plaintext.length !== bytes.length - HEADER_BYTES - 32) violation(`plaintext of ${u.plaintext.length} bytes from ${bytes.length}`);
    const j = judgeTlsCryptReply(bytes, TC_SESSION, TC_CLIENT);
    if (j.answer) {
      if (!u.ok) violation('judged an answer that does not unwrap');
      if (bytes[0] !== 0x40) violation(`judged an answer, but the first byte is 0x${bytes[0].toString(16)}`);
      if (!u.plaintext.includes(TC_SESSION)) violation('judged an answer that does not name our session');
      return 'an answer to us';
    }
    if (!j.why) violation('not an answer, without a reason');
    if (j.wrongKey && u.ok) violation('"wrong key" for a packet that unwraps with ours');
    return u.ok ? `unwrapped, not ours: ${j.why.replace(/\d+/g, 'N').slice(0, 40)}` : `rejected: ${j.wrongKey ? 'wrong key' : u.why.replace(/\d+/g, 'N').slice(0, 40)}`;
  },
  show: ({ kind, bytes }) => `${kind} ${toHex(bytes)}`,
};

// ------------------------------------------------------------------ WireGuard response

const WG_SERVER = generateKeyPair();
const WG_PEER = wireguardPeer(generateKeyPair().privateKey, WG_SERVER.publicKey);
const WG_INIT = createInitiation(WG_PEER, { senderIndex: 0x11223344 });
const WG_MAC1_KEY = (() => {
  const { blake2s } = WG_BLAKE2S;
  return blake2s(Buffer.concat([Buffer.from('mac1----'), WG_PEER.publicKey]));
})();

/** Responses and cookie replies addressed to our index, mac1 valid or not, with lying sizes and types. */
const wireguardGenerated: fc.Arbitrary<BytesInput> = fc
  .record({
    type: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(2, 2, 2, 3) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) }),
    reserved: rarely(fc.integer({ min: 1, max: 255 }), 12),
    ours: fc.constantFrom(true, true, true, false),
    goodMac1: fc.constantFrom(true, true, true, false),
    size: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(92, 92, 92, 64) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 200 }) }),
  })
  .map((g) => {
    const b = randomBytes(g.size);
    if (b.length > 0) b[0] = g.type;
    if (b.length >= 4) b.fill(0, 1, 4);
    if (g.reserved !== null && b.length > 1) b[1] = g.reserved;
    const at = g.type === 3 ? 4 : 8;
    if (g.ours && b.length >= at + 4) b.writeUInt32LE(WG_INIT.senderIndex, at);
    if (g.goodMac1 && b.length === 92) Buffer.from(WG_BLAKE2S.blake2s(b.subarray(0, 60), { key: WG_MAC1_KEY, dkLen: 16 })).copy(b, 60);
    return { kind: 'generated' as const, bytes: new Uint8Array(b) };
  });

const WG_SEEDS = fc.sample(wireguardGenerated, { numRuns: 8, seed: 7 }).map((s) => s.bytes);

export const wireguardTarget: FuzzTarget<BytesInput> = {
  name: 'wireguard',
  parser: 'judgeWireGuardReply (src/probes/net/wireguard.ts)',
  errorValue: "{ kind: 'ignored' | 'wrong-key', why }",
  deep: /^(past mac1|ignored: the cookie reply does not decrypt)/,
  arbitrary: mix(
    wireguardGenerated,
    mutatedBytes(WG_SEEDS).map(({ bytes }) => ({ kind: 'mutated' as const, bytes })),
    randomBytesArb.map((bytes) => ({ kind: 'random' as const, bytes })),
  ),
  check({ bytes }) {
    const j = judgeWireGuardReply(bytes, WG_INIT, WG_PEER);
    // Nobody holds the server's private key here, so nothing may verify as a response.
    if (j.kind === 'response') violation('a response verified without the server\'s private key');
    if (j.kind === 'cookie') violation('a cookie decrypted without the server\'s key');
    if (!j.why) violation('not an answer, without a reason');
    return j.kind === 'wrong-key' ? 'past mac1: fails its AEAD' : `ignored: ${j.why.replace(/\d+/g, 'N').slice(0, 40)}`;
  },
  show: ({ kind, bytes }) => `${kind} ${toHex(bytes)}`,
};

// ------------------------------------------------------------------ neighbour table

interface TextInput {
  kind: InputKind;
  text: string;
}

const NEIGH_DIR = join(FIXTURES, 'packets', 'neigh');
const NEIGH_SEEDS: string[] = jsonFiles<{ before?: { raw: string }; after?: { raw: string } }>(NEIGH_DIR).flatMap(({ data }) => [data.before?.raw, data.after?.raw].filter((s): s is string => typeof s === 'string'));
const NEIGH_BASE = parseNeighJson(NEIGH_SEEDS.find((s) => s.length > 10) ?? '[]');
const NEIGH_STATES = ['REACHABLE', 'STALE', 'DELAY', 'PROBE', 'INCOMPLETE', 'FAILED', 'NOARP', 'PERMANENT', 'NONE'];

const jsonLeaf = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(-0));
const neighEntryArb = fc.dictionary(
  fc.oneof({ weight: 4, arbitrary: fc.constantFrom('dst', 'dev', 'lladdr', 'state', 'confirmed', 'used', 'updated', 'router', 'probes', 'refcnt', '__proto__', 'constructor') }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) }),
  fc.oneof(
    jsonLeaf,
    fc.constantFrom('192.168.1.10', '169.254.7.7', 'fe80::1', 'b8:27:eb:00:00:10', 'B8-27-EB-00-00-10', '', '00:00:00:00:00:00', '1.2.3.256'),
    fc.array(fc.oneof(fc.constantFrom(...NEIGH_STATES, 'reachable', 'STALE '), fc.string({ maxLength: 6 })), { maxLength: 4 }),
    fc.constantFrom(0, 1, 4294967295, 1e308, -1, 0.5),
    fc.anything({ maxDepth: 2 }),
  ),
  { maxKeys: 10 },
);

const neighGenerated: fc.Arbitrary<TextInput> = fc
  .oneof(
    { weight: 6, arbitrary: fc.array(fc.oneof({ weight: 6, arbitrary: neighEntryArb }, { weight: 1, arbitrary: fc.anything({ maxDepth: 2 }) }), { maxLength: 40 }) },
    { weight: 1, arbitrary: fc.anything({ maxDepth: 3 }) },
  )
  .map((v) => ({ kind: 'generated' as const, text: JSON.stringify(v) ?? 'undefined' }));

function checkNeighbours(text: string): string {
  let entries: NeighbourEntry[];
  try {
    entries = parseNeighJson(text);
  } catch (err) {
    // Documented: `ip` printing something that is not JSON is a SyntaxError; JSON that is not an array says so.
    if (err instanceof SyntaxError) return 'not JSON';
    if (err instanceof Error && err.message === 'ip -j neigh did not print a JSON array') return 'not an array';
    throw err;
  }
  for (const e of entries) {
    if (typeof e.ip !== 'string') violation(`an entry's ip is ${JSON.stringify(e.ip)}`);
    if (!NEIGH_STATES.includes(e.state)) violation(`state ${JSON.stringify(e.state)}`);
    if (e.mac !== undefined && typeof e.mac !== 'string') violation(`mac ${JSON.stringify(e.mac)}`);
    for (const n of [e.confirmedS, e.usedS, e.updatedS]) if (n !== undefined && typeof n !== 'number') violation(`an age is ${JSON.stringify(n)}`);
  }
  // What the hosts probe does with two snapshots must cope with whatever was parsed.
  const before = { iface: 'eth0', at: 0, entries: NEIGH_BASE };
  const after = { iface: 'eth0', at: 1500, entries };
  confirmedBetween(before, after);
  freshBetween(before, after);
  freshBetween(after, before);
  assertBounded('the parsed table', entries, text.length, 4);
  return entries.length ? 'entries read' : 'no entries';
}

const JSON_TOKENS = ['[', ']', '{', '}', ',', ':', '"', '\\', '\\u0000', 'null', 'true', '-0', '1e999', '"dst":', '"state":["REACHABLE"]', '"lladdr":', '"router":null', '"confirmed":', ' ', '\n'];

export const neighboursTarget: FuzzTarget<TextInput> = {
  name: 'neighbours',
  parser: 'parseNeighJson, then confirmedBetween/freshBetween (src/probes/net/neighbours.ts)',
  errorValue: 'SyntaxError for text that is not JSON, Error("ip -j neigh did not print a JSON array"); unreadable entries skipped',
  deep: /^entries read/,
  arbitrary: mix(neighGenerated, tagged('mutated', fc.record({ text: mutatedText(NEIGH_SEEDS, JSON_TOKENS) })), tagged('random', fc.record({ text: fc.oneof(fc.string({ unit: 'binary', maxLength: 400 }), fc.string({ unit: fc.constantFrom(...JSON_TOKENS), maxLength: 200 })) }))),
  check: ({ text }) => checkNeighbours(text),
  show: ({ kind, text }) => `${kind} ${showText(text)}`,
};

// ------------------------------------------------------------------ ping output

const PING_DIR = join(NEIGH_DIR, 'ping');
const PING_SEEDS = readdirSync(PING_DIR).filter((f) => f.endsWith('.txt')).sort().map((f) => readFileSync(join(PING_DIR, f), 'utf8'));

const num = fc.oneof(fc.nat({ max: 100_000 }).map(String), fc.constantFrom('0', '00', '1.2.3', '.', '9'.repeat(400), '0.001', '-1', '1e5'), fc.stringMatching(/^[\d.]{1,12}$/));
const addr = fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom('fe80::1%eth0', 'localhost', '-', ':', '%', 'a'.repeat(300)), fc.string({ unit: 'binary-ascii', maxLength: 20 }));
const pingLine = fc.oneof(
  fc.tuple(addr, addr).map(([a, b]) => `PING ${a} (${b}) 56(84) bytes of data.`),
  fc.tuple(num, addr, num, fc.option(num), num, fc.boolean(), fc.constantFrom(':', '', '::')).map(([n, a, seq, ttl, t, dup, colon]) => `${n} bytes from ${a}${colon} icmp_seq=${seq}${ttl === null ? '' : ` ttl=${ttl}`} time${Number(n) % 2 ? '=' : '<'}${t} ms${dup ? ' (DUP!)' : ''}`),
  fc.tuple(addr, num, fc.oneof(fc.constantFrom('Destination Host Unreachable', 'Time to live exceeded', 'Destination Port Unreachable', ''), fc.string({ unit: 'binary', maxLength: 30 }))).map(([a, seq, msg]) => `From ${a} icmp_seq=${seq} ${msg}`),
  fc.tuple(num, num, fc.option(num), fc.option(num), num, num).map(([s, r, d, e, l, t]) => `${s} packets transmitted, ${r} received,${d === null ? '' : ` +${d} duplicates,`}${e === null ? '' : ` +${e} errors,`} ${l}% packet loss, time ${t}ms`),
  fc.tuple(fc.constantFrom('rtt', 'round-trip'), num, num, num, num).map(([w, a, b, c, d]) => `${w} min/avg/max/mdev = ${a}/${b}/${c}/${d} ms`),
  fc.constantFrom('', '--- 192.168.1.1 ping statistics ---', 'ping: sendmsg: Operation not permitted', '\r', '\t64 bytes from'),
);

const PING_TOKENS = [' bytes from ', 'icmp_seq=', ' ttl=', ' time=', ' time<', ' ms', ' (DUP!)', 'From ', ' packets transmitted, ', ' received,', '% packet loss', 'rtt min/avg/max/mdev = ', '/', '.', ':', '%', '\n', '9'.repeat(30)];

export const pingTarget: FuzzTarget<TextInput> = {
  name: 'ping',
  parser: 'parsePingOutput (src/probes/net/ping.ts)',
  errorValue: 'none needed: lines it cannot read are ignored, and fields it found nothing for stay undefined',
  deep: /^replies read/,
  arbitrary: mix(
    fc.array(pingLine, { maxLength: 30 }).map((lines) => ({ kind: 'generated' as const, text: lines.join('\n') })),
    tagged('mutated', fc.record({ text: mutatedText(PING_SEEDS, PING_TOKENS) })),
    tagged('random', fc.record({ text: fc.oneof(fc.string({ unit: 'binary', maxLength: 400 }), fc.string({ unit: fc.constantFrom(...PING_TOKENS, 'a', '1'), maxLength: 300 })) })),
  ),
  check({ text }) {
    const p = parsePingOutput(text);
    if (!Array.isArray(p.replies) || !Array.isArray(p.errors)) violation('replies/errors are not lists');
    for (const r of p.replies) {
      if (typeof r.from !== 'string' || r.from.includes('%')) violation(`a reply from ${JSON.stringify(r.from)} (zone not stripped)`);
      if (typeof r.timeMs !== 'number' || typeof r.seq !== 'number' || typeof r.duplicate !== 'boolean') violation(`a reply reads as ${JSON.stringify(r)}`);
    }
    for (const e of p.errors) if (typeof e.message !== 'string' || typeof e.from !== 'string') violation(`an error line reads as ${JSON.stringify(e)}`);
    for (const n of [p.sent, p.received, p.lossPct, p.avgRttMs]) if (n !== undefined && typeof n !== 'number') violation(`a summary figure is ${JSON.stringify(n)}`);
    assertBounded('the parsed output', p, text.length, 8);
    return p.replies.length ? 'replies read' : p.errors.length ? 'only ICMP errors' : p.sent !== undefined ? 'only a summary' : 'nothing read';
  },
  show: ({ kind, text }) => `${kind} ${showText(text)}`,
};

// ------------------------------------------------------------------ ddclient cache and conf

interface DdclientInput {
  kind: InputKind;
  text: string;
  /** Generated inputs only: secrets planted in login/password values, which must never come out. */
  secrets: string[];
  /** What the generated text is: a cache file or a ddclient.conf (mutated and random text goes to both parsers). */
  file?: 'cache' | 'conf';
}

const DDCLIENT_SEEDS: string[] = ['3.11', 'pre-3.11'].flatMap((v) => ['ddclient.cache', 'ddclient.conf'].map((f) => readFileSync(join(FIXTURES, 'ddclient', v, f), 'utf8')));
const HOSTNAME = /^[A-Za-z0-9_.-]{1,253}$/;

/** Writes one value the way ddclient would have to for it to read back whole: escaped, sometimes quoted. */
function ddclientValue(value: string, style: number): string {
  const escaped = value.replace(/[\\,'"]/g, (c) => `\\${c}`);
  if (style === 0 || /\s/.test(value)) return `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`;
  if (style === 1) return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  return escaped;
}

const secretArb = fc.tuple(fc.stringMatching(/^[A-Za-z0-9]{8,12}$/), fc.string({ unit: fc.constantFrom(...',\'"\\= #=cache/ipv4ststu'.split('')), maxLength: 12 }), fc.constantFrom('', ',cache=/', ',ip=203.0.113.9,', ' host ', 'status=good'))
  .map(([core, noise, inject]) => `SECRET${core}${noise}${inject}${core}`);

const ddclientLine = fc
  .record({
    kept: fc.array(fc.tuple(fc.constantFrom('ip', 'ipv4', 'ipv6', 'status', 'status-ipv4', 'status-ipv6', 'mtime', 'atime', 'wtime', 'host', 'protocol', 'server'), fc.oneof(fc.constantFrom('203.0.113.10', 'good', 'nochg', 'badauth', '1740826800', '0', '', '999999999999999', '::1', '1.2.3.4.5', ' 203.0.113.10 '), fc.string({ maxLength: 12 }))), { maxLength: 8 }),
    secrets: fc.array(fc.tuple(fc.constantFrom('login', 'password', 'password', 'backupmx'), secretArb, fc.integer({ min: 0, max: 2 })), { minLength: 1, maxLength: 3 }),
    order: fc.array(fc.nat(), { maxLength: 12 }),
    host: fc.oneof(fc.constantFrom('home.dyn.example.net', 'HOME.dyn.example.net.', 'other.dyn.example.net'), fc.domain(), fc.string({ maxLength: 10 })),
    style: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 12, maxLength: 12 }),
  })
  .map(({ kept, secrets, order, host, style }) => {
    const pairs: Array<[string, string]> = [...kept.map(([k, v], i): [string, string] => [k, ddclientValue(v, style[i % style.length])]), ...secrets.map(([k, v, s]): [string, string] => [k, ddclientValue(v, s)])];
    for (let i = 0; i < order.length && pairs.length > 1; i++) {
      const j = order[i] % pairs.length;
      [pairs[0], pairs[j]] = [pairs[j], pairs[0]];
    }
    return { line: `${pairs.map(([k, v]) => `${k}=${v}`).join(',')} ${host}`, secrets: secrets.map(([, v]) => v) };
  });

/** A ddclient.conf with the provider password in it, in every quoting ddclient accepts. */
const ddclientConf = fc
  .record({
    secret: secretArb,
    style: fc.integer({ min: 0, max: 2 }),
    cache: fc.constantFrom('/var/cache/ddclient/ddclient.cache', '"/var/cache/x.cache"', "'/tmp/c'", ''),
    continuation: fc.boolean(),
    before: fc.array(fc.constantFrom('daemon=300', 'ssl=yes', '# comment, cache=/not/this', 'use=web, web=checkip.dyndns.org/', 'protocol=dyndns2'), { maxLength: 4 }),
  })
  .map(({ secret, style, cache, continuation, before }) => {
    const pw = `password=${ddclientValue(secret, style)}`;
    const lines = [...before, ...(cache ? [`cache=${cache}`] : []), continuation ? `protocol=dyndns2, \\\n  login=pi-owner, \\\n  ${pw}` : `login=pi-owner\n${pw}`, 'home.dyn.example.net'];
    return { conf: lines.join('\n'), secret };
  });

const ddclientGenerated: fc.Arbitrary<DdclientInput> = fc
  .record({
    header: fc.constantFrom('', '## ddclient-3.11.2\n', '## ddclient-3.9.1\n## last updated at Sun Jan  5 10:00:00 2025 (1736071200)\n', '##ddclient-\n', `## ddclient-${'9'.repeat(40)}\n`),
    lines: fc.array(fc.oneof({ weight: 8, arbitrary: ddclientLine }, { weight: 1, arbitrary: fc.constantFrom('', '#', '   ', 'x'.repeat(70_000)).map((line) => ({ line, secrets: [] as string[] })) }), { maxLength: 6 }),
    eol: fc.constantFrom('\n', '\r\n'),
    conf: rarely(ddclientConf, 3),
  })
  .map(({ header, lines, eol, conf }) => ({
    kind: 'generated' as const,
    text: conf ? conf.conf : header + lines.map((l) => l.line).join(eol),
    secrets: conf ? [conf.secret] : lines.flatMap((l) => l.secrets),
    file: conf ? ('conf' as const) : ('cache' as const),
  }));

const DDCLIENT_TOKENS = [',', '=', "'", '"', '\\', ' ', '\n', '\r\n', '#', '## ddclient-', 'ip=', 'ipv4=', 'status-ipv4=', 'mtime=', 'password=', 'cache=', 'x'.repeat(70_000)];

export const ddclientTarget: FuzzTarget<DdclientInput> = {
  name: 'ddclient',
  parser: 'parseDdclientCache and cachePathFromConf (src/probes/net/ddclient.ts)',
  errorValue: 'none needed: unreadable lines are counted in skippedLines, values that are not what their key promises are left out',
  deep: /^(entries with an address|a cache path)/,
  arbitrary: mix(
    ddclientGenerated,
    mutatedText(DDCLIENT_SEEDS, DDCLIENT_TOKENS).map((text) => ({ kind: 'mutated' as const, text, secrets: [] })),
    fc.oneof(fc.string({ unit: 'binary', maxLength: 400 }), fc.string({ unit: fc.constantFrom(...DDCLIENT_TOKENS.slice(0, -1), 'a', '1', '.'), maxLength: 300 })).map((text) => ({ kind: 'random' as const, text, secrets: [] })),
  ),
  check({ text, secrets, file }) {
    const cache = parseDdclientCache(text);
    const cachePath = cachePathFromConf(text);
    if (cachePath !== undefined && cachePath === '') violation('an empty cache path');
    if (!Number.isInteger(cache.skippedLines) || cache.skippedLines < 0) violation(`skippedLines ${cache.skippedLines}`);
    for (const e of cache.entries) {
      if (!HOSTNAME.test(e.host)) violation(`host ${JSON.stringify(e.host)}`);
      if (e.ip !== undefined) assertIp('an entry ip', e.ip);
      if (e.status !== undefined && !/^[A-Za-z0-9_.-]{1,32}$/.test(e.status)) violation(`status ${JSON.stringify(e.status)}`);
      for (const t of [e.mtime, e.atime]) if (t !== undefined && !(Number.isInteger(t) && t > 0)) violation(`a time of ${t}`);
    }
    // The promise of this module: no value but the allow-listed ones ever leaves it.
    const out = JSON.stringify(file === 'conf' ? { cachePath } : cache);
    for (const s of secrets) {
      const core = s.slice('SECRET'.length, 'SECRET'.length + 8);
      if (out.includes(core)) violation(`a planted password/login value came out of the ${file} parser: ${out.slice(0, 600)}`);
    }
    assertBounded('the parsed cache', cache, text.length, 2);
    return cache.entries.some((e) => e.ip) ? 'entries with an address' : cache.entries.length ? 'entries without an address' : cachePath ? 'a cache path' : 'nothing read';
  },
  show: ({ kind, text, secrets }) => `${kind} ${showText(text)}${secrets.length ? ` secrets ${JSON.stringify(secrets)}` : ''}`,
};

// ------------------------------------------------------------------ config

const PRETEND_MACHINE: MachineFacts = {
  defaultInterface: 'eth0',
  gateway: '192.168.1.1',
  resolvers: ['192.168.1.10'],
  interfaces: { eth0: { address: '192.168.1.50', prefix: 24, mac: 'dc:a6:32:00:00:50' } },
};

const README_CONFIG = (() => {
  const readme = readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8');
  const m = /## Configuration[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme);
  return m?.[1];
})();

const CONFIG_SEEDS: string[] = [
  ...readdirSync(join(FIXTURES, 'scenarios')).sort().map((s) => readFileSync(join(FIXTURES, 'scenarios', s, 'config.yaml'), 'utf8')),
  ...(README_CONFIG ? [README_CONFIG] : []),
  // YAML that attacks the loader rather than the schema.
  'a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n',
  'site: &a [*a]\n',
  'hosts: &h [{name: a, mac: "b8:27:eb:00:00:10", ip: 192.168.1.10, roles: *h}]\n',
  `site: ${'['.repeat(200)}${']'.repeat(200)}\n`,
  '? [a, b]\n: c\n',
  '<<: {site: a}\nsite: b\n',
  'site: !!binary aGVsbG8=\ndeadline: !!float 1e400\n',
  '%YAML 1.1\n---\nsite: yes\n...\n---\nsite: no\n',
  'dns: {records: {__proto__: 1.2.3.4, constructor: 1.2.3.4}}\n',
  'site: "\\u0000\\u001b[2J"\n',
  // Nested explicit keys: yaml 2.9 prints every collection key to make it a string, at every level (n^4).
  `${'? '.repeat(120)}\n`,
];

const CONFIG_KEYS = ['site', 'interface', 'subnet', 'deadline', 'hosts', 'router', 'dhcp', 'dns', 'wan', 'ddns', 'vpn', 'graphite', 'history', 'tui', 'name', 'mac', 'ip', 'roles', 'wanIp', 'dnsServer', 'forwards', 'proto', 'port', 'to', 'servers', 'window', 'records', 'external', 'targets', 'hostname', 'resolvers', 'publicIp', 'ddclientCache', 'ddclientConf', 'host', 'publicName', 'tlsAuth', 'file', 'direction', 'digest', 'url', 'prefix', 'spoolMax', 'path', 'keep', 'refresh', '__proto__', 'constructor', 'toString'];
const CONFIG_LEAVES = ['home', 'eth0', '192.168.1.10', '192.168.1.0/24', '10s', '500ms', '0s', '-1s', '99999999999d', 'b8:27:eb:00:00:10', 'dns', 'udp', 'tcp', '1194', 'tcp://graphite.home:2003', 'https://api.ipify.org', 'dns://1.1.1.1/x?type=TXT', '~/x.db', '', ' ', 'yes', 'null', '1e400', '0x10', '.inf'];

const configValue: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(...CONFIG_LEAVES),
    fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.string({ maxLength: 20 })),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...CONFIG_KEYS) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) }), tie('v'), { maxKeys: 5 }),
  ),
})).v;

/** A valid config with one value somewhere replaced by anything. */
const semanticMutation: fc.Arbitrary<string> = fc.tuple(fc.constantFrom(...CONFIG_SEEDS.slice(0, 5)), fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), configValue, fc.constantFrom<'block' | 'flow'>('block', 'flow')).map(([seed, path, value, style]) => {
  let doc: unknown;
  try {
    // Seeds are known-good files: yaml's plain parse only builds the mutation; the loader is what is under test.
    doc = JSON.parse(JSON.stringify(yamlParse(seed)));
  } catch {
    return seed;
  }
  let cur = doc as Record<string, unknown>;
  for (let i = 0; i < path.length; i++) {
    if (cur === null || typeof cur !== 'object') break;
    const keys = Object.keys(cur);
    if (keys.length === 0) break;
    const key = keys[path[i] % keys.length];
    if (i === path.length - 1 || cur[key] === null || typeof cur[key] !== 'object') {
      cur[key] = value;
      break;
    }
    cur = cur[key] as Record<string, unknown>;
  }
  return yamlStringify(doc, { collectionStyle: style });
});

const YAML_TOKENS = [': ', '- ', '&a ', '*a', '*b', '&b ', '!!binary ', '!!str ', '!!map ', '!!set ', '!!omap ', '!!timestamp ', '!!js/function ', '!local ', '<<: *a', '{', '}', '[', ']', '"', "'", '\\', '\n', '\n  ', '\t', '#', '---\n', '...\n', '? ', '|', '>-', '%YAML 1.1\n', '%TAG ! tag:x,2000:\n', '\u0000', '\ufeff', '~', '0o17', '1e400', '.nan', '__proto__: ', 'hosts:\n  - ', 'deadline: ', 'dns:\n  records:\n    '];

export const configTarget: FuzzTarget<TextInput> = {
  name: 'config',
  parser: 'parseConfigText: YAML, schema, cross-checks, resolution (src/config/load.ts)',
  errorValue: 'ConfigError listing every issue (file, line, key path, value, what is valid)',
  // yaml 2.9 stringifies nested collection keys in n^4 time: such an input may take minutes without a cut.
  cutEachMs: 1000,
  deep: /^a config/,
  arbitrary: mix(
    fc.oneof(
      configValue.chain((v) => fc.constantFrom<'block' | 'flow'>('block', 'flow').map((style) => yamlStringify(v, { collectionStyle: style }))),
      semanticMutation,
    ).map((text) => ({ kind: 'generated' as const, text })),
    tagged('mutated', fc.record({ text: mutatedText(CONFIG_SEEDS, YAML_TOKENS) })),
    tagged('random', fc.record({ text: fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: fc.constantFrom(...YAML_TOKENS, 'site', 'a', '1', ' '), maxLength: 120 })) })),
  ),
  check({ text }) {
    const warnings: string[] = [];
    let outcome = 'a config';
    const emitWarning = process.emitWarning;
    process.emitWarning = ((w: string | Error) => {
      warnings.push(typeof w === 'string' ? w : w.message);
    }) as typeof process.emitWarning;
    try {
      const cfg = parseConfigText(text, { file: 'fuzz.yaml', machine: PRETEND_MACHINE, env: { HOME: '/nonexistent-fuzz-home' } });
      if (typeof cfg.site !== 'string' || !Number.isFinite(cfg.deadlineMs) || !Array.isArray(cfg.hosts)) violation(`accepted into a malformed config: ${JSON.stringify(cfg).slice(0, 300)}`);
    } catch (err) {
      if (err instanceof Violation) throw err;
      if (!(err instanceof ConfigError)) violation(`threw ${(err as Error)?.name ?? typeof err} instead of a ConfigError: ${(err as Error)?.message ?? String(err)}`);
      if (err.issues.length === 0 || err.issues.some((i) => !i.message)) violation('a ConfigError without issues');
      outcome = err.issues.some((i) => i.message.startsWith('is not valid YAML')) ? 'ConfigError: YAML' : 'ConfigError: schema';
    } finally {
      process.emitWarning = emitWarning;
    }
    // A warning goes straight to the user's terminal, around the clear error.
    if (warnings.length) violation(`the loader printed a Node warning: ${warnings[0]}`);
    return outcome;
  },
  show: ({ kind, text }) => `${kind} ${showText(text)}`,
};


// ------------------------------------------------------------------ the router: SSDP, IGD description and SOAP, NAT-PMP/PCP

const UPNP_DIR = join(FIXTURES, 'packets', 'upnp');
const upnpFile = (f: string) => readFileSync(join(UPNP_DIR, f), 'latin1');
const SSDP_SEEDS = [upnpFile('ssdp-miniupnpd.txt')];
const DESC_SEEDS = [upnpFile('rootDesc-miniupnpd.xml')];
const SOAP_SEEDS = readdirSync(UPNP_DIR).filter((f) => f.startsWith('soap-')).sort().map((f) => ({ action: f.split('-')[1], text: upnpFile(f) }));
const GATEWAY_SEEDS = readdirSync(UPNP_DIR).filter((f) => f.endsWith('.hex')).sort().map((f) => hex(upnpFile(f)));
const UPNP_FROM = '192.168.77.1';
const UPNP_LOCATION = 'http://192.168.77.1:5000/rootDesc.xml';
const XML_TOKENS = ['<', '>', '</', '/>', '&amp;', '&#0;', '&lt;', '<service>', '</service>', '<serviceType>', '<controlURL>', '</controlURL>', '<URLBase>', 'http://', 'http://10.0.0.1/', 'ftp://x/', '//evil/', '<s:Fault>', '<errorCode>', '713', '<NewExternalIPAddress>', '100.64.0.10', '<NewPortMappingIndex>', 'Response>', '\u0007', '\r\n'];
const SSDP_TOKENS = ['\r\n', 'HTTP/1.1 200 OK', 'LOCATION:', 'ST:', 'USN:', 'SERVER:', ':', 'http://192.168.77.1:5000/', 'http://10.9.9.9/', 'https://', '\u001b[2J', '\u0000'];

interface UpnpInput {
  kind: InputKind;
  what: 'ssdp' | 'description' | 'soap' | 'gateway';
  text: string;
  action?: string;
  bytes?: Uint8Array;
}

const soapValue = fc.oneof(fc.constantFrom('', '0', '65535', '65536', '-1', '100.64.0.10', '192.168.1.20', 'UDP', 'tcp', 'Connected', '1'.repeat(30)), fc.string({ unit: 'binary-ascii', maxLength: 20 }));
const soapGenerated: fc.Arbitrary<UpnpInput> = fc
  .tuple(fc.constantFrom('GetExternalIPAddress', 'GetStatusInfo', 'GetGenericPortMappingEntry'), fc.dictionary(fc.constantFrom('NewExternalIPAddress', 'NewConnectionStatus', 'NewUptime', 'NewExternalPort', 'NewInternalPort', 'NewProtocol', 'NewInternalClient', 'NewEnabled', 'NewLeaseDuration', 'NewPortMappingDescription'), soapValue), fc.boolean(), fc.option(fc.nat({ max: 9999 })))
  .map(([action, values, fault, code]) => ({
    kind: 'generated' as const, what: 'soap' as const, action,
    text: fault
      ? `<s:Envelope><s:Body><s:Fault><detail><UPnPError><errorCode>${code ?? 'x'}</errorCode><errorDescription>Bad</errorDescription></UPnPError></detail></s:Fault></s:Body></s:Envelope>`
      : `<s:Envelope><s:Body><u:${action}Response xmlns:u="x">${Object.entries(values).map(([k, v]) => `<${k}>${v}</${k}>`).join('')}</u:${action}Response></s:Body></s:Envelope>`,
  }));
const descGenerated: fc.Arbitrary<UpnpInput> = fc
  .array(fc.tuple(fc.constantFrom('urn:schemas-upnp-org:service:WANIPConnection:1', 'urn:schemas-upnp-org:service:WANPPPConnection:1', 'urn:x'), fc.oneof(fc.constantFrom('/ctl/IPConn', 'http://192.168.77.1:5000/c', 'http://10.0.0.9/c', '', 'javascript:x', '//other/x'), fc.string({ maxLength: 20 }))), { maxLength: 80 })
  .map((svcs) => ({ kind: 'generated' as const, what: 'description' as const, text: `<root><device><friendlyName>R</friendlyName><serviceList>${svcs.map(([t, c]) => `<service><serviceType>${t}</serviceType><controlURL>${c}</controlURL></service>`).join('')}</serviceList></device></root>` }));
const ssdpGenerated: fc.Arbitrary<UpnpInput> = fc
  .array(fc.tuple(fc.constantFrom('LOCATION', 'ST', 'USN', 'SERVER', 'location', 'X'), fc.oneof(fc.constantFrom(UPNP_LOCATION, 'http://10.0.0.9/x', 'http://user:pw@192.168.77.1/', 'urn:x'), fc.string({ unit: 'binary', maxLength: 40 }))), { maxLength: 12 })
  .map((h) => ({ kind: 'generated' as const, what: 'ssdp' as const, text: `HTTP/1.1 200 OK\r\n${h.map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n` }));
const gatewayGenerated: fc.Arbitrary<UpnpInput> = fc
  .tuple(fc.constantFrom(0, 2, 1), fc.constantFrom(128, 0x80, 129, 0, 130), fc.nat({ max: 0xffff }), fc.uint8Array({ minLength: 4, maxLength: 60 }))
  .map(([v, op, code, rest]) => ({ kind: 'generated' as const, what: 'gateway' as const, text: '', bytes: Uint8Array.from([v, op, code >> 8, code & 0xff, ...rest]) }));

function checkUpnp(input: UpnpInput): string {
  if (input.what === 'ssdp') {
    const a = parseSsdpAnswer(Buffer.from(input.text, 'latin1'), UPNP_FROM);
    if (!a) return 'not an answer';
    if (new URL(a.location).hostname !== UPNP_FROM) violation(`LOCATION ${a.location} is not on the answering host`);
    assertPrintable('ST', a.st);
    assertPrintable('SERVER', a.server);
    return 'an answer';
  }
  if (input.what === 'description') {
    const d = parseDescription(input.text, UPNP_LOCATION);
    if (!d) return 'not a description';
    for (const v of [d.friendlyName, d.manufacturer, d.modelName]) assertPrintable('a name', v);
    if (d.wan && new URL(d.wan.controlUrl).host !== '192.168.77.1:5000') violation(`control URL ${d.wan.controlUrl} leaves the router`);
    assertBounded('the description', d, input.text.length, 2);
    return d.wan ? 'a WAN service' : 'a description without WAN service';
  }
  if (input.what === 'soap') {
    const a = parseSoapAnswer(input.text, input.action ?? 'GetStatusInfo');
    if (!a) return 'not SOAP';
    if (!a.ok) {
      if (a.code !== undefined && (!Number.isInteger(a.code) || a.code < 0 || a.code > 9999)) violation(`fault code ${a.code}`);
      return 'a fault';
    }
    for (const v of Object.values(a.values)) assertPrintable('a value', v);
    const m = mappingFrom(a.values);
    if (m) {
      assertIp('the internal client', m.internalClient);
      for (const p of [m.externalPort, m.internalPort]) if (!Number.isInteger(p) || p < 0 || p > 65535) violation(`port ${p}`);
      return 'values and a mapping';
    }
    assertBounded('the SOAP values', a, input.text.length, 2);
    return 'values';
  }
  const g = parseGatewayAnswer(input.bytes ?? new Uint8Array());
  if (!g) return 'not an answer';
  if (g.protocol === 'nat-pmp' && g.externalAddress !== undefined) assertIp('the NAT-PMP address', g.externalAddress);
  if (!Number.isInteger(g.epochS) || g.epochS < 0) violation(`epoch ${g.epochS}`);
  return `a ${g.protocol} answer`;
}

export const upnpTarget: FuzzTarget<UpnpInput> = {
  name: 'router',
  parser: 'parseSsdpAnswer (ssdp.ts), parseDescription + parseSoapAnswer + mappingFrom (igd.ts), parseGatewayAnswer (natpmp.ts)',
  errorValue: 'undefined for anything that is not an answer of its kind; a fault as { ok: false }',
  deep: /^(an answer|a WAN service|a description|values|a fault|a nat-pmp|a pcp)/,
  arbitrary: mix(
    fc.oneof(soapGenerated, descGenerated, ssdpGenerated, gatewayGenerated),
    fc.oneof(
      tagged('mutated', fc.record({ what: fc.constant('ssdp' as const), text: mutatedText(SSDP_SEEDS, SSDP_TOKENS) })),
      tagged('mutated', fc.record({ what: fc.constant('description' as const), text: mutatedText(DESC_SEEDS, XML_TOKENS) })),
      fc.tuple(fc.integer({ min: 0, max: SOAP_SEEDS.length - 1 }), mutatedText(SOAP_SEEDS.map((s) => s.text), XML_TOKENS)).map(([i, text]) => ({ kind: 'mutated' as const, what: 'soap' as const, action: SOAP_SEEDS[i].action, text })),
      mutatedBytes(GATEWAY_SEEDS).map(({ bytes }) => ({ kind: 'mutated' as const, what: 'gateway' as const, text: '', bytes })),
    ),
    fc.oneof(
      tagged('random', fc.record({ what: fc.constantFrom('ssdp' as const, 'description' as const, 'soap' as const), text: fc.oneof(fc.string({ unit: 'binary', maxLength: 600 }), fc.string({ unit: fc.constantFrom(...XML_TOKENS, ...SSDP_TOKENS, 'a'), maxLength: 300 })), action: fc.constant('GetStatusInfo') })),
      randomBytesArb.map((bytes) => ({ kind: 'random' as const, what: 'gateway' as const, text: '', bytes })),
    ),
  ),
  check: checkUpnp,
  show: ({ kind, what, text, action, bytes }) => `${kind} ${what}${action ? ` ${action}` : ''} ${bytes ? toHex(bytes) : showText(text)}`,
};

// ------------------------------------------------------------------ all of them

export const targets: ReadonlyArray<FuzzTarget> = [dhcpTarget, dnsTarget, openvpnTarget, tlsCryptTarget, wireguardTarget, neighboursTarget, pingTarget, ddclientTarget, configTarget, upnpTarget] as unknown as FuzzTarget[];

// ------------------------------------------------------------------ the runner

export interface FuzzOptions {
  runs: number;
  /** fast-check seed; random when absent (it is reported, so a failure can be replayed). */
  seed?: number;
  /** One input taking longer than this (CPU time of this process) is a failure. */
  maxMsPerInput?: number;
  /** The whole target taking longer than this is a hang: it is cut and reported. */
  budgetMs?: number;
  /**
   * Cut off any single input after this long (its own vm watchdog, ~75 µs a
   * call) and count it as a failure, then go on: one input a parser spends
   * minutes on costs the run seconds, and every other input is still tried.
   */
  cutEachMs?: number;
  /** Heap growth over the run (after a full GC) above this is a failure. */
  maxHeapGrowthBytes?: number;
  /** Failing inputs kept for the report. */
  keepExamples?: number;
}

export interface FuzzStats {
  target: string;
  parser: string;
  seed: number;
  runs: number;
  byKind: Record<InputKind, number>;
  /** What became of the inputs (see FuzzTarget.check), most frequent first. */
  outcomes: Array<[string, number]>;
  /** Inputs that got through to the deep code (FuzzTarget.deep). */
  deep: number;
  failures: number;
  examples: Array<{ input: string; error: string }>;
  elapsedMs: number;
  inputsPerSecond: number;
  /** Worst single input, CPU ms (what the bound applies to) and wall ms. */
  worstCpuMs: number;
  worstWallMs: number;
  worstInput: string;
  heapGrowthBytes: number;
  /** Whether a full GC was available, so that heap growth is meaningful. */
  gcExposed: boolean;
}

let gcFn: (() => void) | undefined;
function fullGc(): boolean {
  if (!gcFn) {
    try {
      setFlagsFromString('--expose-gc');
      gcFn = runInNewContext('gc') as () => void;
    } catch {
      return false;
    }
  }
  gcFn();
  gcFn();
  return true;
}

/**
 * Runs one target: `runs` inputs from its arbitrary, every failure counted
 * (not stopped at the first), timed per input, and the whole run under a
 * watchdog so that a parser that never returns is cut and reported rather
 * than hanging the suite.
 */
const cutOffCall = new Script('globalThis.__netdoctorCutOff()');

/**
 * Runs `fn` and stops it after `ms` even if it never yields (a vm timeout: the
 * only way to interrupt synchronous code in-process). A cut-off throws an
 * error that {@link isCutOff} recognises.
 */
export function withCutOff<T>(fn: () => T, ms: number): T {
  const holder = globalThis as unknown as { __netdoctorCutOff?: () => unknown };
  holder.__netdoctorCutOff = fn;
  try {
    return cutOffCall.runInThisContext({ timeout: ms }) as T;
  } finally {
    delete holder.__netdoctorCutOff;
  }
}

export function isCutOff(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT';
}

export function runFuzz(target: FuzzTarget, opts: FuzzOptions): FuzzStats {
  const seed = opts.seed ?? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
  const maxMs = opts.maxMsPerInput ?? 250;
  const keep = opts.keepExamples ?? 3;
  const stats: FuzzStats = {
    target: target.name, parser: target.parser, seed, runs: 0, byKind: { generated: 0, mutated: 0, random: 0 }, outcomes: [], deep: 0, failures: 0, examples: [],
    elapsedMs: 0, inputsPerSecond: 0, worstCpuMs: 0, worstWallMs: 0, worstInput: '', heapGrowthBytes: 0, gcExposed: false,
  };
  const fail = (input: { kind: InputKind }, error: string) => {
    stats.failures++;
    if (stats.examples.length < keep) stats.examples.push({ input: target.show(input as never).slice(0, 4000), error: error.slice(0, 1000) });
  };
  let current: { kind: InputKind } | undefined;
  const outcomes = new Map<string, number>();
  const cutEachMs = opts.cutEachMs ?? target.cutEachMs;
  const property = fc.property(target.arbitrary, (input) => {
    current = input;
    stats.runs++;
    stats.byKind[input.kind]++;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    try {
      const outcome = cutEachMs === undefined ? target.check(input as never) : withCutOff(() => target.check(input as never), cutEachMs);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    } catch (err) {
      if (isCutOff(err)) fail(input, `no result within ${cutEachMs} ms: cut off`);
      else fail(input, err instanceof Violation ? err.message : `uncaught ${(err as Error)?.name ?? typeof err}: ${(err as Error)?.message ?? String(err)}`);
    }
    const wall = performance.now() - t0;
    const cpuUsed = process.cpuUsage(cpu0);
    const cpu = (cpuUsed.user + cpuUsed.system) / 1000;
    if (cpu > stats.worstCpuMs) {
      stats.worstCpuMs = cpu;
      stats.worstInput = target.show(input as never).slice(0, 300);
    }
    if (wall > stats.worstWallMs) stats.worstWallMs = wall;
    if (cpu > maxMs) fail(input, `took ${cpu.toFixed(1)} ms of CPU (bound ${maxMs} ms)`);
    return true;
  });

  stats.gcExposed = fullGc();
  const heapBefore = process.memoryUsage().heapUsed;
  const started = performance.now();
  // One watchdog for the whole run: vm's timeout interrupts even a synchronous endless loop inside the parser.
  try {
    withCutOff(() => fc.check(property, { numRuns: opts.runs, seed, endOnFailure: true }), opts.budgetMs ?? 600_000);
  } catch (err) {
    // Only the watchdog is a finding; anything else thrown here is a defect of the harness or a generator.
    if (!isCutOff(err)) throw err;
    fail(current ?? { kind: 'random' }, `no result within ${opts.budgetMs ?? 600_000} ms: ${(err as Error).message} (the input shown was the one being parsed)`);
  }
  stats.elapsedMs = performance.now() - started;
  stats.outcomes = [...outcomes.entries()].sort((a, b) => b[1] - a[1]);
  stats.deep = stats.outcomes.filter(([o]) => target.deep.test(o)).reduce((n, [, c]) => n + c, 0);
  stats.inputsPerSecond = stats.runs / (stats.elapsedMs / 1000);
  fullGc();
  stats.heapGrowthBytes = process.memoryUsage().heapUsed - heapBefore;
  const maxGrowth = opts.maxHeapGrowthBytes ?? 32 * 1024 * 1024;
  if (stats.gcExposed && stats.heapGrowthBytes > maxGrowth) {
    stats.failures++;
    stats.examples.push({ input: '(the whole run)', error: `the heap grew by ${(stats.heapGrowthBytes / 2 ** 20).toFixed(1)} MiB over ${stats.runs} inputs (bound ${(maxGrowth / 2 ** 20).toFixed(0)} MiB)` });
  }
  return stats;
}

/** One line per target, for the test log and the benchmark's progress. */
export function describeStats(s: FuzzStats): string {
  return `${s.target}: ${s.runs} inputs (${s.byKind.generated} generated, ${s.byKind.mutated} mutated, ${s.byKind.random} random), ${s.failures} failures, ` +
    `${Math.round(s.inputsPerSecond)} inputs/s, worst ${s.worstCpuMs.toFixed(2)} ms CPU / ${s.worstWallMs.toFixed(2)} ms wall, heap ${(s.heapGrowthBytes / 2 ** 20).toFixed(2)} MiB${s.gcExposed ? '' : ' (no GC access)'}, seed ${s.seed}; ` +
    `${((100 * s.deep) / Math.max(1, s.runs)).toFixed(1)}% reached the deep code; outcomes: ${s.outcomes.slice(0, 10).map(([o, n]) => `${o} ${((100 * n) / Math.max(1, s.runs)).toFixed(1)}%`).join(', ')}`;
}
