/**
 * DNS messages: building queries, and reading replies safely.
 *
 * Replies come off the network and may be anything: strays for another
 * socket, spoofed answers with a guessed id, garbage. dns2's `Packet.parse`
 * (2.4.0) is costly on hostile input — a 12-byte header claiming 65535 records
 * per section costs seconds of CPU, and per-record errors are swallowed, so a
 * damaged reply silently loses records. So every reply goes through
 * {@link parseReply}, which first checks in O(1) what can be checked from the
 * header (size, QR bit, opcode, id, section counts against the bytes there
 * are), then walks the message once with bounded name decoding (compression
 * pointers must point backwards, so a walk always ends), and only then lets
 * dns2 decode the answer records, one at a time, at offsets already known to
 * be sound — and checks it consumed exactly each record's RDATA.
 *
 * Queries are encoded here (a dozen lines), not with dns2's bit-array writer,
 * so that names are validated with a clear message before anything is sent.
 *
 * Every text that comes out of a reply (names, targets, TXT) is escaped with
 * `safeText` (control bytes, `\`, non-ASCII as `\xNN`): a hostile server must
 * not reach the terminal, the UI or a report with escape sequences.
 */
import dns2, { type Resource } from 'dns2';
import { safeText } from './dhcp-packet.js';

const { Packet } = dns2;

/** Record types netdoctor asks for or shows by name; others appear as `TYPE<n>`. */
export const DNS_TYPES = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
} as const;
export type DnsTypeName = keyof typeof DNS_TYPES;

export const CLASS_IN = 1;

/** RFC 1035 / 2136 response codes by number. */
export const RCODE_NAMES: readonly string[] = [
  'NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED',
  'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE',
];

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

/** Extended response codes (RFC 6891 and later): the OPT record's upper 8 bits, then the header's 4. */
const EXTENDED_RCODE_NAMES: Readonly<Record<number, string>> = {
  16: 'BADVERS', 17: 'BADKEY', 18: 'BADTIME', 19: 'BADMODE', 20: 'BADNAME', 21: 'BADALG', 22: 'BADTRUNC', 23: 'BADCOOKIE',
};

export function rcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? EXTENDED_RCODE_NAMES[rcode] ?? `RCODE${rcode}`;
}

export function typeName(type: number): string {
  for (const [name, code] of Object.entries(DNS_TYPES)) if (code === type) return name;
  return `TYPE${type}`;
}

export function typeCode(type: DnsTypeName | number): number {
  if (typeof type === 'number') {
    if (!Number.isInteger(type) || type < 1 || type > 0xffff) throw new RangeError(`DNS type ${type} is not 1-65535`);
    return type;
  }
  const code = DNS_TYPES[type];
  if (code === undefined) throw new RangeError(`unknown DNS type ${JSON.stringify(type)} (known: ${Object.keys(DNS_TYPES).join(', ')})`);
  return code;
}

/** Largest UDP reply accepted. netdoctor does not send EDNS, so a sane server sends at most 512 bytes; be lenient. */
export const MAX_UDP_REPLY = 4096;
/** A TCP message is prefixed by a 16-bit length. */
export const MAX_TCP_REPLY = 65535;
/** Answer records decoded per reply; a reply to an A or PTR question with more is not sane. */
export const MAX_ANSWERS = 256;
const HEADER_SIZE = 12;
/** Smallest question: root name (1) + type (2) + class (2). */
const MIN_QUESTION = 5;
/** Smallest record: root name (1) + type, class (4) + TTL (4) + RDLENGTH (2). */
const MIN_RECORD = 11;
const MAX_NAME = 255;
const MAX_LABEL = 63;
/** Compression hops followed in one name; backward-only pointers end anyway, this bounds the work. */
const MAX_POINTER_HOPS = 64;

export interface DnsQuestion {
  name: string;
  type: number;
  class: number;
}

/** Labels of a name as the user wrote it; trailing dot allowed, empty labels not. */
function labelsOf(name: string): string[] {
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  if (trimmed === '') return [];
  const labels = trimmed.split('.');
  let wire = 1;
  for (const label of labels) {
    if (label.length === 0) throw new RangeError(`DNS name ${JSON.stringify(name)} has an empty label`);
    if (label.length > MAX_LABEL) throw new RangeError(`DNS name ${JSON.stringify(name)} has a label longer than ${MAX_LABEL} characters`);
    // eslint-disable-next-line no-control-regex
    if (!/^[\x21-\x7e]+$/.test(label)) throw new RangeError(`DNS name ${JSON.stringify(name)} has characters other than printable ASCII`);
    wire += label.length + 1;
  }
  if (wire > MAX_NAME) throw new RangeError(`DNS name ${JSON.stringify(name)} is longer than ${MAX_NAME} bytes on the wire`);
  return labels;
}

/** Canonical form for comparing names: lower case, no trailing dot. */
export function normalizeName(name: string): string {
  return (name.endsWith('.') ? name.slice(0, -1) : name).toLowerCase();
}

/**
 * A standard query (opcode QUERY, one question, class IN, no EDNS).
 * Throws RangeError for a name that cannot be encoded.
 */
export function encodeQuery(opts: { id: number; name: string; type: DnsTypeName | number; recursionDesired?: boolean }): Buffer {
  if (!Number.isInteger(opts.id) || opts.id < 0 || opts.id > 0xffff) throw new RangeError(`DNS id ${opts.id} is not 0-65535`);
  const labels = labelsOf(opts.name);
  const qtype = typeCode(opts.type);
  const nameLength = labels.reduce((n, l) => n + l.length + 1, 1);
  const buf = Buffer.alloc(HEADER_SIZE + nameLength + 4);
  buf.writeUInt16BE(opts.id, 0);
  buf.writeUInt16BE(opts.recursionDesired === false ? 0 : 0x0100, 2);
  buf.writeUInt16BE(1, 4);
  let off = HEADER_SIZE;
  for (const label of labels) {
    buf.writeUInt8(label.length, off++);
    off += buf.write(label, off, 'latin1');
  }
  buf.writeUInt8(0, off++);
  buf.writeUInt16BE(qtype, off);
  buf.writeUInt16BE(CLASS_IN, off + 2);
  return buf;
}

export interface DnsFlags {
  /** Authoritative answer. */
  aa: boolean;
  /** Truncated: the answer did not fit; ask again over TCP. */
  tc: boolean;
  rd: boolean;
  /** Recursion available. */
  ra: boolean;
  ad: boolean;
  cd: boolean;
}

export interface DnsRecord {
  name: string;
  type: string;
  typeCode: number;
  class: number;
  ttl: number;
  /**
   * The record's value as text (escaped, see the file comment): the address for
   * A/AAAA, the target name for PTR/CNAME/NS, `priority exchange` for MX, the
   * text for TXT, `mname rname serial refresh retry expire minimum` for SOA,
   * hex otherwise.
   */
  data: string;
}

export interface DnsReply {
  id: number;
  /** With EDNS, the OPT record's extended bits combined with the header's (RFC 6891 §6.1.3): BADCOOKIE is 23. */
  rcode: number;
  rcodeName: string;
  flags: DnsFlags;
  /** The echoed question; absent only in error replies that omit it (some servers do for FORMERR/REFUSED). */
  question?: DnsQuestion;
  answers: DnsRecord[];
  /** Counts of the other sections; their records are checked for soundness but not decoded. */
  authorityCount: number;
  additionalCount: number;
  size: number;
}

export type RejectReason =
  | 'too-short'
  | 'too-long'
  | 'not-a-response'
  | 'bad-opcode'
  | 'id-mismatch'
  | 'question-mismatch'
  | 'counts-exceed-size'
  | 'too-many-records'
  | 'bad-name'
  | 'bad-record';

/**
 * A reply that is not for us (`stray`: wrong id, not a response, another
 * question — keep waiting for ours) or one that is for us but cannot be
 * read (`malformed`).
 */
export type ReplyVerdict =
  | { ok: true; reply: DnsReply }
  | { ok: false; kind: 'stray' | 'malformed'; reason: RejectReason; detail: string };

export interface ReplyExpectation {
  id: number;
  question: { name: string; type: DnsTypeName | number };
  /** Largest message accepted: {@link MAX_UDP_REPLY} or {@link MAX_TCP_REPLY}. */
  maxSize?: number;
}

class Reject extends Error {
  constructor(readonly kind: 'stray' | 'malformed', readonly reason: RejectReason, detail: string) {
    super(detail);
  }
}

/**
 * Reads a name starting at `start`, following compression pointers only
 * backwards (to before the place the pointer was read, as RFC 1035 §4.1.4
 * intends), so decoding always ends. Returns the name and the offset just
 * past it in the message (past the first pointer, if any).
 */
function readName(buf: Buffer, start: number): { name: string; end: number } {
  const labels: string[] = [];
  let off = start;
  let end = -1;
  let wire = 1;
  let hops = 0;
  // Lowest offset reached so far: a pointer must go below it, so every hop strictly recedes.
  let floor = start;
  for (;;) {
    if (off >= buf.length) throw new Reject('malformed', 'bad-name', `name at ${start} runs past the end of the message`);
    const len = buf[off];
    if (len === 0) {
      if (end < 0) end = off + 1;
      break;
    }
    const top = len & 0xc0;
    if (top === 0xc0) {
      if (off + 1 >= buf.length) throw new Reject('malformed', 'bad-name', `compression pointer at ${off} is cut off`);
      const target = ((len & 0x3f) << 8) | buf[off + 1];
      if (target >= floor) throw new Reject('malformed', 'bad-name', `compression pointer at ${off} does not point backwards (to ${target})`);
      if (++hops > MAX_POINTER_HOPS) throw new Reject('malformed', 'bad-name', `name at ${start} follows more than ${MAX_POINTER_HOPS} pointers`);
      if (end < 0) end = off + 2;
      off = target;
      floor = target;
      continue;
    }
    if (top !== 0) throw new Reject('malformed', 'bad-name', `label at ${off} has reserved type bits 0x${top.toString(16)}`);
    wire += len + 1;
    if (wire > MAX_NAME) throw new Reject('malformed', 'bad-name', `name at ${start} is longer than ${MAX_NAME} bytes`);
    if (off + 1 + len > buf.length) throw new Reject('malformed', 'bad-name', `label at ${off} runs past the end of the message`);
    labels.push(buf.toString('latin1', off + 1, off + 1 + len));
    off += 1 + len;
  }
  return { name: labels.join('.'), end };
}

/** A name (or any wire text read as latin1) made safe to show. */
function shown(raw: string, max = MAX_NAME * 4): string {
  return safeText(Buffer.from(raw, 'latin1'), max);
}

interface RecordSpan {
  start: number;
  type: number;
  rdStart: number;
  rdEnd: number;
}

/** Checks one record's framing and the RDATA of the types whose shape is fixed. */
function walkRecord(buf: Buffer, start: number, where: string): RecordSpan {
  const { end: nameEnd } = readName(buf, start);
  if (nameEnd + 10 > buf.length) throw new Reject('malformed', 'bad-record', `${where} is cut off`);
  const type = buf.readUInt16BE(nameEnd);
  const rdLength = buf.readUInt16BE(nameEnd + 8);
  const rdStart = nameEnd + 10;
  const rdEnd = rdStart + rdLength;
  if (rdEnd > buf.length) throw new Reject('malformed', 'bad-record', `${where} RDATA (${rdLength} bytes) runs past the end of the message`);
  if (type === DNS_TYPES.A && rdLength !== 4) throw new Reject('malformed', 'bad-record', `${where} is an A record of ${rdLength} bytes, not 4`);
  if (type === DNS_TYPES.AAAA && rdLength !== 16) throw new Reject('malformed', 'bad-record', `${where} is an AAAA record of ${rdLength} bytes, not 16`);
  if (type === DNS_TYPES.PTR || type === DNS_TYPES.CNAME || type === DNS_TYPES.NS) {
    if (readName(buf, rdStart).end !== rdEnd) throw new Reject('malformed', 'bad-record', `${where} target name does not fill its RDATA exactly`);
  }
  return { start, type, rdStart, rdEnd };
}

/** Types whose dns2 decoder reads exactly a validated name or fixed-size address. */
const DECODED_BY_DNS2 = new Set<number>([DNS_TYPES.A, DNS_TYPES.AAAA, DNS_TYPES.PTR, DNS_TYPES.CNAME, DNS_TYPES.NS]);

/** Decodes one already-walked record with dns2, checking it read exactly the record. */
function decodeRecord(buf: Buffer, span: RecordSpan, where: string): DnsRecord {
  const reader = new Packet.Reader(buf, span.start * 8);
  let res: Resource;
  if (DECODED_BY_DNS2.has(span.type)) {
    try {
      res = Packet.Resource.parse(reader);
    } catch (err) {
      throw new Reject('malformed', 'bad-record', `${where} could not be decoded: ${(err as Error).message}`);
    }
    if (reader.offset !== span.rdEnd * 8) throw new Reject('malformed', 'bad-record', `${where} decoded to a different length than its RDATA`);
  } else {
    // Other types: only the owner name and fixed fields, via the name decoder; RDATA is shown raw.
    // dns2's TXT/SOA/MX decoders do not bound themselves by RDLENGTH, so they are not trusted here.
    const name = Packet.Name.decode(reader);
    res = { name, type: span.type, class: buf.readUInt16BE(span.rdStart - 8) } as Resource;
  }
  // From the wire: dns2 clamps a TTL with the top bit set to 2^31-1 itself.
  const ttl = buf.readUInt32BE(span.rdStart - 6);
  return {
    name: shown(res.name),
    type: typeName(span.type),
    typeCode: span.type,
    class: res.class,
    // RFC 2181 §8: a TTL with the top bit set is to be treated as zero.
    ttl: ttl > 0x7fffffff ? 0 : ttl,
    data: recordData(buf, span, res),
  };
}

/** TXT data shown at most this long (RDATA may hold 64 KiB). */
const MAX_TXT_SHOWN = 1024;

function recordData(buf: Buffer, span: RecordSpan, res: Resource): string {
  switch (span.type) {
    case DNS_TYPES.A:
    case DNS_TYPES.AAAA:
      return String(res.address);
    case DNS_TYPES.PTR:
    case DNS_TYPES.CNAME:
      return shown(String(res.domain));
    case DNS_TYPES.NS:
      return shown(String(res.ns));
    case DNS_TYPES.MX:
      if (span.rdEnd - span.rdStart >= 3) return `${buf.readUInt16BE(span.rdStart)} ${shown(readName(buf, span.rdStart + 2).name)}`;
      break;
    case DNS_TYPES.TXT: {
      const parts: Buffer[] = [];
      for (let off = span.rdStart; off < span.rdEnd; ) {
        const len = buf[off];
        if (off + 1 + len > span.rdEnd) break;
        parts.push(buf.subarray(off + 1, off + 1 + len));
        off += 1 + len;
      }
      return safeText(Buffer.concat(parts), MAX_TXT_SHOWN);
    }
    case DNS_TYPES.SOA: {
      const soa = soaData(buf, span);
      if (soa) return soa;
      break;
    }
  }
  return buf.toString('hex', span.rdStart, span.rdEnd);
}

/** SOA RDATA (RFC 1035 §3.3.13) as dig shows it, or undefined when it is not exactly two names and five numbers. */
function soaData(buf: Buffer, span: RecordSpan): string | undefined {
  try {
    const mname = readName(buf, span.rdStart);
    if (mname.end >= span.rdEnd) return undefined;
    const rname = readName(buf, mname.end);
    if (rname.end + 20 !== span.rdEnd) return undefined;
    const numbers = [0, 4, 8, 12, 16].map((i) => buf.readUInt32BE(rname.end + i));
    return [shown(mname.name) + '.', shown(rname.name) + '.', ...numbers].join(' ');
  } catch (err) {
    if (err instanceof Reject) return undefined;
    throw err;
  }
}

function headerFlags(word: number): DnsFlags {
  return {
    aa: (word & 0x0400) !== 0,
    tc: (word & 0x0200) !== 0,
    rd: (word & 0x0100) !== 0,
    ra: (word & 0x0080) !== 0,
    ad: (word & 0x0020) !== 0,
    cd: (word & 0x0010) !== 0,
  };
}

/**
 * The gate in front of the parser. Never throws; costs O(1) for strays and
 * at most one pass over the message plus dns2 decoding of at most
 * {@link MAX_ANSWERS} small records for a reply that is for us.
 */
export function parseReply(buf: Buffer, expect: ReplyExpectation): ReplyVerdict {
  try {
    return { ok: true, reply: readReply(buf, expect) };
  } catch (err) {
    if (err instanceof Reject) return { ok: false, kind: err.kind, reason: err.reason, detail: err.message };
    // Anything else is a defect here, not the packet's fault; still never let a reply crash the probe.
    return { ok: false, kind: 'malformed', reason: 'bad-record', detail: `unexpected: ${(err as Error)?.message ?? String(err)}` };
  }
}

function readReply(buf: Buffer, expect: ReplyExpectation): DnsReply {
  const maxSize = expect.maxSize ?? MAX_UDP_REPLY;
  if (buf.length < HEADER_SIZE) throw new Reject('stray', 'too-short', `${buf.length} bytes is shorter than a DNS header (12)`);
  if (buf.length > maxSize) throw new Reject('stray', 'too-long', `${buf.length} bytes is longer than the ${maxSize} accepted`);
  const id = buf.readUInt16BE(0);
  const word = buf.readUInt16BE(2);
  if ((word & 0x8000) === 0) throw new Reject('stray', 'not-a-response', 'QR bit is 0: a query, not a response');
  if (id !== expect.id) throw new Reject('stray', 'id-mismatch', `id ${id} is not the ${expect.id} asked`);
  const opcode = (word >> 11) & 0xf;
  if (opcode !== 0) throw new Reject('stray', 'bad-opcode', `opcode ${opcode} is not QUERY (0)`);
  const rcode = word & 0xf;
  const qd = buf.readUInt16BE(4);
  const an = buf.readUInt16BE(6);
  const ns = buf.readUInt16BE(8);
  const ar = buf.readUInt16BE(10);
  const needed = qd * MIN_QUESTION + (an + ns + ar) * MIN_RECORD;
  if (HEADER_SIZE + needed > buf.length) {
    throw new Reject('malformed', 'counts-exceed-size', `header claims ${qd}/${an}/${ns}/${ar} question/answer/authority/additional entries, which need at least ${HEADER_SIZE + needed} bytes; the message has ${buf.length}`);
  }
  if (an > MAX_ANSWERS) throw new Reject('malformed', 'too-many-records', `${an} answer records is more than the ${MAX_ANSWERS} a reply to one question can sanely hold`);

  const want = { name: normalizeName(expect.question.name), type: typeCode(expect.question.type) };
  let off = HEADER_SIZE;
  let question: DnsQuestion | undefined;
  if (qd === 1) {
    const q = readName(buf, off);
    if (q.end + 4 > buf.length) throw new Reject('malformed', 'bad-record', 'question is cut off');
    question = { name: q.name, type: buf.readUInt16BE(q.end), class: buf.readUInt16BE(q.end + 2) };
    off = q.end + 4;
    if (normalizeName(question.name) !== want.name || question.type !== want.type || question.class !== CLASS_IN) {
      throw new Reject('stray', 'question-mismatch', `question ${shown(question.name)} ${typeName(question.type)} is not the ${shown(want.name)} ${typeName(want.type)} asked`);
    }
    question.name = shown(question.name);
  } else if (qd === 0) {
    // Allowed only for errors: a server may drop the question from FORMERR/REFUSED/SERVFAIL.
    if (rcode === RCODE.NOERROR) throw new Reject('stray', 'question-mismatch', 'NOERROR reply without the question');
  } else {
    throw new Reject('stray', 'question-mismatch', `${qd} questions; one was asked`);
  }

  const spans: RecordSpan[] = [];
  let opt: RecordSpan | undefined;
  const sections: Array<[string, number]> = [['answer', an], ['authority', ns], ['additional', ar]];
  for (const [section, count] of sections) {
    for (let i = 0; i < count; i++) {
      const span = walkRecord(buf, off, `${section} record ${i + 1}`);
      if (section === 'answer') spans.push(span);
      else if (section === 'additional' && span.type === DNS_TYPES.OPT) opt ??= span;
      off = span.rdEnd;
    }
  }
  // EDNS (RFC 6891 §6.1.3): the OPT record's TTL field starts with the upper 8 bits of the rcode.
  const fullRcode = opt ? (buf[opt.rdStart - 6] << 4) | rcode : rcode;
  // Bytes after the last record are ignored: harmless, and some middleboxes pad.
  const answers = spans.map((span, i) => decodeRecord(buf, span, `answer record ${i + 1}`));
  return {
    id,
    rcode: fullRcode,
    rcodeName: rcodeName(fullRcode),
    flags: headerFlags(word),
    ...(question ? { question } : {}),
    answers,
    authorityCount: ns,
    additionalCount: ar,
    size: buf.length,
  };
}

/** Values of the answers of one type, e.g. the addresses of the A records (CNAMEs in between are skipped). */
export function answerValues(reply: DnsReply, type: DnsTypeName | number): string[] {
  const code = typeCode(type);
  return reply.answers.filter((r) => r.typeCode === code).map((r) => r.data);
}
