/**
 * DHCP (RFC 2131) messages as bytes: building the one message netdoctor ever
 * sends (DHCPDISCOVER) and reading whatever arrives on port 68.
 *
 * Written here rather than taken from the `dhcp` npm package: that package's
 * parser consumes two bytes for a pad option, ignores length bytes of
 * fixed-size options, over-reads address lists and never checks the magic
 * cookie, and its client sends DHCPREQUEST on its own (see
 * dependency-audit.md). Only its option table served as a reference for codes.
 *
 * Anything on the LAN can send to port 68, so the parser never throws and
 * never trusts a length: every malformed datagram comes back as
 * `{ ok: false, error }`, and an option whose value has the wrong shape is
 * reported in `invalid` instead of being read past its end.
 */

/** BOOTP fixed header (236 bytes) + the 4-byte magic cookie. */
export const BOOTP_HEADER_SIZE = 236;
export const DHCP_MIN_SIZE = BOOTP_HEADER_SIZE + 4;
/** RFC 1542: relay agents may drop BOOTP messages shorter than this. */
export const BOOTP_MIN_SIZE = 300;
export const MAGIC_COOKIE = 0x63825363;
export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;
/** Broadcast flag (RFC 2131 figure 2): asks servers to broadcast their reply, since we hold no address they could unicast to. */
export const FLAG_BROADCAST = 0x8000;

export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;
const HTYPE_ETHERNET = 1;

export const MessageType = {
  DISCOVER: 1,
  OFFER: 2,
  REQUEST: 3,
  DECLINE: 4,
  ACK: 5,
  NAK: 6,
  RELEASE: 7,
  INFORM: 8,
} as const;
export type MessageTypeName = keyof typeof MessageType;

export function messageTypeName(code: number | undefined): string {
  const hit = Object.entries(MessageType).find(([, v]) => v === code);
  return hit ? hit[0] : code === undefined ? 'none' : `type ${code}`;
}

/** Option codes read or written here (RFC 2132 unless noted). */
export const Opt = {
  PAD: 0,
  SUBNET_MASK: 1,
  ROUTER: 3,
  DNS: 6,
  HOSTNAME: 12,
  DOMAIN_NAME: 15,
  BROADCAST: 28,
  NTP: 42,
  REQUESTED_IP: 50,
  LEASE_TIME: 51,
  OVERLOAD: 52,
  MESSAGE_TYPE: 53,
  SERVER_ID: 54,
  PARAMETER_LIST: 55,
  MESSAGE: 56,
  MAX_SIZE: 57,
  RENEWAL_T1: 58,
  REBINDING_T2: 59,
  CLIENT_ID: 61,
  END: 255,
} as const;

export interface DhcpPacket {
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  /** Client hardware address: the first `hlen` bytes of chaddr, lower-case colon-separated. */
  chaddr: string;
  /** Server host name / boot file, when those fields hold text rather than overloaded options. */
  sname: string;
  file: string;
  /** Option values by code; repeated instances are concatenated (RFC 3396). */
  options: Map<number, Uint8Array>;
  /** Option codes in the order they first appeared. */
  optionOrder: number[];
  messageType?: number;
}

export type ParseResult = { ok: true; packet: DhcpPacket } | { ok: false; error: string };

export interface DiscoverFields {
  xid: number;
  /** Six-byte MAC, `aa:bb:cc:dd:ee:ff`. */
  mac: string;
  /** Seconds since the client began (RFC 2131 `secs`); retransmissions carry the elapsed time. */
  secs?: number;
}

/** Options a DISCOVER asks servers to fill in: what the probe reports. */
export const REQUESTED_OPTIONS = [
  Opt.SUBNET_MASK, Opt.ROUTER, Opt.DNS, Opt.DOMAIN_NAME, Opt.BROADCAST, Opt.NTP,
  Opt.LEASE_TIME, Opt.SERVER_ID, Opt.RENEWAL_T1, Opt.REBINDING_T2,
];

export function macToBytes(mac: string): Uint8Array {
  const parts = mac.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-f]{2}$/i.test(p))) {
    throw new RangeError(`not a MAC address: ${JSON.stringify(mac)}`);
  }
  return Uint8Array.from(parts.map((p) => Number.parseInt(p, 16)));
}

function bytesToMac(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':');
}

function ipAt(buf: Uint8Array, at: number): string {
  return `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}`;
}

/**
 * A DHCPDISCOVER with the broadcast flag set, a client identifier (type 1 +
 * MAC) so servers that key on it see the same client as chaddr, and a
 * parameter request list. Padded to the BOOTP minimum of 300 bytes.
 */
export function encodeDiscover(fields: DiscoverFields): Uint8Array {
  const mac = macToBytes(fields.mac);
  if (!Number.isInteger(fields.xid) || fields.xid < 0 || fields.xid > 0xffffffff) {
    throw new RangeError(`xid must be a 32-bit unsigned integer, got ${fields.xid}`);
  }
  const secs = Math.max(0, Math.min(0xffff, Math.floor(fields.secs ?? 0)));
  const options: number[] = [
    Opt.MESSAGE_TYPE, 1, MessageType.DISCOVER,
    Opt.CLIENT_ID, 7, HTYPE_ETHERNET, ...mac,
    Opt.PARAMETER_LIST, REQUESTED_OPTIONS.length, ...REQUESTED_OPTIONS,
    Opt.END,
  ];
  const buf = new Uint8Array(Math.max(BOOTP_MIN_SIZE, DHCP_MIN_SIZE + options.length));
  const view = new DataView(buf.buffer);
  buf[0] = BOOTREQUEST;
  buf[1] = HTYPE_ETHERNET;
  buf[2] = mac.length;
  buf[3] = 0; // hops
  view.setUint32(4, fields.xid >>> 0);
  view.setUint16(8, secs);
  view.setUint16(10, FLAG_BROADCAST);
  // ciaddr, yiaddr, siaddr, giaddr stay 0.0.0.0: we hold no address and are no relay.
  buf.set(mac, 28);
  view.setUint32(BOOTP_HEADER_SIZE, MAGIC_COOKIE);
  buf.set(options, DHCP_MIN_SIZE);
  return buf;
}

/** Text from a fixed field: up to the first NUL. */
function fieldText(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return safeText(end === -1 ? bytes : bytes.subarray(0, end));
}

/**
 * Bytes from the network shown as text: printable ASCII kept, everything else
 * (control characters, escape sequences a rogue server might send to a
 * terminal, non-ASCII) escaped as \xNN. Trailing NULs, which some servers
 * append to strings, are dropped.
 */
export function safeText(bytes: Uint8Array, max = 255): string {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  let out = '';
  for (let i = 0; i < Math.min(end, max); i++) {
    const b = bytes[i];
    out += b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return end > max ? `${out}…` : out;
}

/**
 * Walks one options area. Returns an error for a truncated option; stops at
 * END. Running off the end without END is tolerated (several small servers
 * omit it) as long as no option is cut.
 */
function walkOptions(
  area: Uint8Array,
  where: string,
  collect: (code: number, value: Uint8Array) => void,
): string | undefined {
  let i = 0;
  while (i < area.length) {
    const code = area[i];
    if (code === Opt.PAD) {
      i += 1;
      continue;
    }
    if (code === Opt.END) return undefined;
    if (i + 1 >= area.length) return `option ${code} in ${where} has no length byte`;
    const len = area[i + 1];
    if (i + 2 + len > area.length) {
      return `option ${code} in ${where} claims ${len} bytes but only ${area.length - i - 2} remain`;
    }
    collect(code, area.subarray(i + 2, i + 2 + len));
    i += 2 + len;
  }
  return undefined;
}

/** Parses any BOOTP/DHCP message. Never throws. */
export function parseDhcpPacket(input: Uint8Array): ParseResult {
  try {
    return parseUnsafe(input);
  } catch (err) {
    // Every read above is bounds-checked; this is a last line so that a bug
    // here is a counted malformed packet rather than a dead probe.
    return { ok: false, error: `unreadable packet (${err instanceof Error ? err.message : String(err)})` };
  }
}

function parseUnsafe(input: Uint8Array): ParseResult {
  if (input.length < DHCP_MIN_SIZE) {
    return { ok: false, error: `too short for DHCP: ${input.length} bytes, need at least ${DHCP_MIN_SIZE}` };
  }
  const buf = input;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const cookie = view.getUint32(BOOTP_HEADER_SIZE);
  if (cookie !== MAGIC_COOKIE) {
    return { ok: false, error: `no DHCP magic cookie (found 0x${cookie.toString(16).padStart(8, '0')})` };
  }
  const op = buf[0];
  if (op !== BOOTREQUEST && op !== BOOTREPLY) return { ok: false, error: `op ${op} is neither BOOTREQUEST nor BOOTREPLY` };
  const hlen = buf[2];
  if (hlen > 16) return { ok: false, error: `hardware address length ${hlen} exceeds the 16-byte chaddr field` };

  const options = new Map<number, Uint8Array>();
  const optionOrder: number[] = [];
  const collect = (code: number, value: Uint8Array) => {
    const prev = options.get(code);
    if (prev) {
      const joined = new Uint8Array(prev.length + value.length);
      joined.set(prev);
      joined.set(value, prev.length);
      options.set(code, joined);
    } else {
      options.set(code, value);
      optionOrder.push(code);
    }
  };

  const sname = buf.subarray(44, 108);
  const file = buf.subarray(108, 236);
  const mainError = walkOptions(buf.subarray(DHCP_MIN_SIZE), 'options', collect);
  if (mainError) return { ok: false, error: mainError };

  // RFC 2131 4.1: options first, then `file`, then `sname`, when option 52 says so.
  const overloadValue = options.get(Opt.OVERLOAD);
  let overload = 0;
  if (overloadValue) {
    if (overloadValue.length !== 1 || overloadValue[0] < 1 || overloadValue[0] > 3) {
      return { ok: false, error: `option overload (52) has an invalid value` };
    }
    overload = overloadValue[0];
    const ignoreNestedOverload = (code: number, value: Uint8Array) => {
      if (code !== Opt.OVERLOAD) collect(code, value);
    };
    if (overload & 1) {
      const err = walkOptions(file, 'file field', ignoreNestedOverload);
      if (err) return { ok: false, error: err };
    }
    if (overload & 2) {
      const err = walkOptions(sname, 'sname field', ignoreNestedOverload);
      if (err) return { ok: false, error: err };
    }
  }

  const typeValue = options.get(Opt.MESSAGE_TYPE);
  if (typeValue && typeValue.length !== 1) {
    return { ok: false, error: `message type option (53) is ${typeValue.length} bytes, must be 1` };
  }

  return {
    ok: true,
    packet: {
      op,
      htype: buf[1],
      hlen,
      hops: buf[3],
      xid: view.getUint32(4),
      secs: view.getUint16(8),
      flags: view.getUint16(10),
      ciaddr: ipAt(buf, 12),
      yiaddr: ipAt(buf, 16),
      siaddr: ipAt(buf, 20),
      giaddr: ipAt(buf, 24),
      chaddr: bytesToMac(buf.subarray(28, 28 + hlen)),
      sname: overload & 2 ? '' : fieldText(sname),
      file: overload & 1 ? '' : fieldText(file),
      options,
      optionOrder,
      messageType: typeValue?.[0],
    },
  };
}

/** What an offer hands out, each option checked for its RFC 2132 shape. */
export interface OfferContent {
  offeredIp: string;
  serverId?: string;
  subnetMask?: string;
  router: string[];
  dns: string[];
  ntp: string[];
  leaseSeconds?: number;
  renewalSeconds?: number;
  rebindingSeconds?: number;
  domain?: string;
  broadcast?: string;
  /** Server's text message (option 56), e.g. why it refused. */
  message?: string;
  /** Options whose value had the wrong length or form, e.g. `router (3): 6 bytes, not a multiple of 4`. */
  invalid: string[];
  /** Codes of every option present, for "what else does this server hand out". */
  optionCodes: number[];
}

const OPTION_NAMES: Record<number, string> = {
  [Opt.SUBNET_MASK]: 'subnet mask',
  [Opt.ROUTER]: 'router',
  [Opt.DNS]: 'DNS servers',
  [Opt.DOMAIN_NAME]: 'domain name',
  [Opt.BROADCAST]: 'broadcast address',
  [Opt.NTP]: 'NTP servers',
  [Opt.LEASE_TIME]: 'lease time',
  [Opt.SERVER_ID]: 'server identifier',
  [Opt.RENEWAL_T1]: 'renewal time',
  [Opt.REBINDING_T2]: 'rebinding time',
  [Opt.MESSAGE]: 'message',
};

/** Reads the options an offer carries; malformed ones go to `invalid`, never thrown. */
export function readOfferContent(packet: DhcpPacket): OfferContent {
  const invalid: string[] = [];
  const label = (code: number) => `${OPTION_NAMES[code] ?? 'option'} (${code})`;
  const one = (code: number): string | undefined => {
    const v = packet.options.get(code);
    if (!v) return undefined;
    if (v.length !== 4) {
      invalid.push(`${label(code)}: ${v.length} bytes, must be 4`);
      return undefined;
    }
    return ipAt(v, 0);
  };
  const list = (code: number): string[] => {
    const v = packet.options.get(code);
    if (!v) return [];
    if (v.length === 0 || v.length % 4 !== 0) {
      invalid.push(`${label(code)}: ${v.length} bytes, not a non-empty multiple of 4`);
      return [];
    }
    const out: string[] = [];
    for (let i = 0; i < v.length; i += 4) out.push(ipAt(v, i));
    return out;
  };
  const seconds = (code: number): number | undefined => {
    const v = packet.options.get(code);
    if (!v) return undefined;
    if (v.length !== 4) {
      invalid.push(`${label(code)}: ${v.length} bytes, must be 4`);
      return undefined;
    }
    return new DataView(v.buffer, v.byteOffset, 4).getUint32(0);
  };
  const text = (code: number): string | undefined => {
    const v = packet.options.get(code);
    if (!v) return undefined;
    if (v.length === 0) {
      invalid.push(`${label(code)}: empty`);
      return undefined;
    }
    return safeText(v);
  };
  return {
    offeredIp: packet.yiaddr,
    serverId: one(Opt.SERVER_ID),
    subnetMask: one(Opt.SUBNET_MASK),
    router: list(Opt.ROUTER),
    dns: list(Opt.DNS),
    ntp: list(Opt.NTP),
    leaseSeconds: seconds(Opt.LEASE_TIME),
    renewalSeconds: seconds(Opt.RENEWAL_T1),
    rebindingSeconds: seconds(Opt.REBINDING_T2),
    domain: text(Opt.DOMAIN_NAME),
    broadcast: one(Opt.BROADCAST),
    message: text(Opt.MESSAGE),
    invalid,
    optionCodes: [...packet.optionOrder],
  };
}

/** Builds a server reply, for recorded-packet fixtures and unit tests of the parser. */
export interface ReplyFields {
  type: number;
  xid: number;
  mac: string;
  yiaddr?: string;
  siaddr?: string;
  flags?: number;
  /** Raw options, in order; `Opt.END` is appended. */
  options?: Array<[number, Uint8Array | number[]]>;
}

export function ipToBytes(ip: string): number[] {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new RangeError(`not an IPv4 address: ${JSON.stringify(ip)}`);
  }
  return parts;
}

export function encodeReply(fields: ReplyFields): Uint8Array {
  const mac = macToBytes(fields.mac);
  const opts: number[] = [Opt.MESSAGE_TYPE, 1, fields.type];
  for (const [code, value] of fields.options ?? []) {
    const bytes = Array.from(value);
    if (bytes.length > 255) throw new RangeError(`option ${code} is longer than 255 bytes`);
    opts.push(code, bytes.length, ...bytes);
  }
  opts.push(Opt.END);
  const buf = new Uint8Array(Math.max(BOOTP_MIN_SIZE, DHCP_MIN_SIZE + opts.length));
  const view = new DataView(buf.buffer);
  buf[0] = BOOTREPLY;
  buf[1] = HTYPE_ETHERNET;
  buf[2] = 6;
  view.setUint32(4, fields.xid >>> 0);
  view.setUint16(10, fields.flags ?? FLAG_BROADCAST);
  buf.set(ipToBytes(fields.yiaddr ?? '0.0.0.0'), 16);
  buf.set(ipToBytes(fields.siaddr ?? '0.0.0.0'), 20);
  buf.set(mac, 28);
  view.setUint32(BOOTP_HEADER_SIZE, MAGIC_COOKIE);
  buf.set(opts, DHCP_MIN_SIZE);
  return buf;
}
