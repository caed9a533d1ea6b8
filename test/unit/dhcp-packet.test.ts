import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BOOTP_MIN_SIZE, DHCP_MIN_SIZE, FLAG_BROADCAST, MAGIC_COOKIE, MessageType, Opt,
  encodeDiscover, encodeReply, ipToBytes, parseDhcpPacket, readOfferContent, safeText, type DhcpPacket,
} from '../../src/probes/net/dhcp-packet.js';

function fixture(name: string): Uint8Array {
  const path = fileURLToPath(new URL(`../../fixtures/packets/dhcp/${name}`, import.meta.url));
  return Uint8Array.from(Buffer.from(readFileSync(path, 'utf8').replace(/\s+/g, ''), 'hex'));
}

function parsed(bytes: Uint8Array): DhcpPacket {
  const r = parseDhcpPacket(bytes);
  if (!r.ok) throw new Error(`expected a packet, got: ${r.error}`);
  return r.packet;
}

function errorOf(bytes: Uint8Array): string {
  const r = parseDhcpPacket(bytes);
  if (r.ok) throw new Error('expected a parse error, got a packet');
  return r.error;
}

/** A 240-byte BOOTREPLY header with cookie, followed by raw option bytes. */
function withOptions(options: number[], header: (b: Uint8Array) => void = () => {}): Uint8Array {
  const b = new Uint8Array(DHCP_MIN_SIZE + options.length);
  b[0] = 2;
  b[1] = 1;
  b[2] = 6;
  new DataView(b.buffer).setUint32(236, MAGIC_COOKIE);
  b.set(options, DHCP_MIN_SIZE);
  header(b);
  return b;
}

const MAC = '02:4e:44:00:00:01';
const XID = 0x4e440001;

describe('encodeDiscover', () => {
  it('builds the recorded DISCOVER byte for byte', () => {
    expect(Buffer.from(encodeDiscover({ xid: XID, mac: MAC })).toString('hex')).toBe(Buffer.from(fixture('netdoctor-discover.hex')).toString('hex'));
  });

  it('is a BOOTREQUEST of at least 300 bytes with broadcast flag, xid, chaddr, client id and no REQUEST', () => {
    const bytes = encodeDiscover({ xid: 0xdeadbeef, mac: 'AA-bb-cc-dd-ee-f0'.replace('AA', '02'), secs: 3 });
    expect(bytes.length).toBeGreaterThanOrEqual(BOOTP_MIN_SIZE);
    const p = parsed(bytes);
    expect(p.op).toBe(1);
    expect(p.xid).toBe(0xdeadbeef);
    expect(p.flags).toBe(FLAG_BROADCAST);
    expect(p.secs).toBe(3);
    expect(p.chaddr).toBe('02:bb:cc:dd:ee:f0');
    expect(p.ciaddr).toBe('0.0.0.0');
    expect(p.giaddr).toBe('0.0.0.0');
    expect(p.messageType).toBe(MessageType.DISCOVER);
    expect(Array.from(p.options.get(Opt.CLIENT_ID)!)).toEqual([1, 0x02, 0xbb, 0xcc, 0xdd, 0xee, 0xf0]);
    expect(p.options.has(Opt.REQUESTED_IP)).toBe(false);
    expect(Array.from(p.options.get(Opt.PARAMETER_LIST)!)).toContain(Opt.ROUTER);
  });

  it('rejects a bad MAC or xid instead of sending garbage', () => {
    expect(() => encodeDiscover({ xid: 1, mac: '02:00:00:00:00' })).toThrow(/not a MAC/);
    expect(() => encodeDiscover({ xid: -1, mac: MAC })).toThrow(/32-bit/);
    expect(() => encodeDiscover({ xid: 2 ** 32, mac: MAC })).toThrow(/32-bit/);
  });
});

describe('parseDhcpPacket on recorded dnsmasq offers', () => {
  it("reads the router's offer: address, mask, router, DNS, lease, domain, NTP", () => {
    const p = parsed(fixture('dnsmasq-2.90-offer-router.hex'));
    expect(p.op).toBe(2);
    expect(p.xid).toBe(XID);
    expect(p.chaddr).toBe(MAC);
    expect(p.messageType).toBe(MessageType.OFFER);
    const c = readOfferContent(p);
    expect(c).toMatchObject({
      offeredIp: '192.168.1.169',
      serverId: '192.168.1.1',
      subnetMask: '255.255.255.0',
      router: ['192.168.1.1'],
      dns: ['192.168.1.10'],
      ntp: ['192.168.1.1'],
      leaseSeconds: 12 * 3600,
      renewalSeconds: 6 * 3600,
      rebindingSeconds: 10.5 * 3600,
      domain: 'home',
      broadcast: '192.168.1.255',
      invalid: [],
    });
  });

  it("reads the second server's offer", () => {
    const c = readOfferContent(parsed(fixture('dnsmasq-2.90-offer-second-server.hex')));
    expect(c).toMatchObject({ offeredIp: '192.168.1.153', serverId: '192.168.1.254', router: ['192.168.1.254'], dns: ['192.168.1.254'], leaseSeconds: 3600 });
  });
});

describe('parseDhcpPacket on malformed input', () => {
  it('refuses short datagrams, a missing cookie, a bad op and an oversized hlen', () => {
    expect(errorOf(new Uint8Array(0))).toMatch(/too short.*0 bytes/);
    expect(errorOf(fixture('dnsmasq-2.90-offer-router.hex').subarray(0, 239))).toMatch(/too short/);
    const noCookie = fixture('dnsmasq-2.90-offer-router.hex');
    noCookie[236] = 0;
    expect(errorOf(noCookie)).toMatch(/magic cookie/);
    expect(errorOf(withOptions([255], (b) => (b[0] = 7)))).toMatch(/op 7/);
    expect(errorOf(withOptions([255], (b) => (b[2] = 17)))).toMatch(/hardware address length 17/);
  });

  it('refuses an option cut off by the end of the datagram', () => {
    expect(errorOf(withOptions([53, 1, 2, 3, 8, 192, 168]))).toMatch(/option 3 .*claims 8 bytes but only 2 remain/);
    expect(errorOf(withOptions([53, 1, 2, 6]))).toMatch(/option 6 .*no length byte/);
    expect(errorOf(withOptions([53, 5, 2]))).toMatch(/option 53/);
  });

  it('refuses a message type option of the wrong length', () => {
    expect(errorOf(withOptions([53, 2, 2, 2, 255]))).toMatch(/message type option \(53\) is 2 bytes/);
  });

  it('skips single-byte pads (the dhcp package consumed two) and stops at END', () => {
    const p = parsed(withOptions([0, 53, 1, 2, 0, 0, 54, 4, 10, 0, 0, 1, 255, 3, 200]));
    expect(p.messageType).toBe(2);
    expect(readOfferContent(p).serverId).toBe('10.0.0.1');
    expect(p.options.has(3)).toBe(false); // after END: not options
  });

  it('tolerates a missing END when no option is cut', () => {
    expect(parsed(withOptions([53, 1, 2, 54, 4, 10, 0, 0, 1])).messageType).toBe(2);
  });

  it('reports options of the wrong shape as invalid instead of over-reading', () => {
    const p = parsed(withOptions([53, 1, 2, 3, 6, 10, 0, 0, 1, 10, 0, 6, 4, 10, 0, 0, 2, 1, 3, 255, 255, 255, 51, 2, 0, 1, 54, 4, 10, 0, 0, 1, 255]));
    const c = readOfferContent(p);
    expect(c.router).toEqual([]);
    expect(c.dns).toEqual(['10.0.0.2']); // the option after a bad list is read as itself
    expect(c.subnetMask).toBeUndefined();
    expect(c.leaseSeconds).toBeUndefined();
    expect(c.invalid).toEqual([
      'subnet mask (1): 3 bytes, must be 4',
      'router (3): 6 bytes, not a non-empty multiple of 4',
      'lease time (51): 2 bytes, must be 4',
    ]);
  });

  it('concatenates split options (RFC 3396)', () => {
    const c = readOfferContent(parsed(withOptions([53, 1, 2, 6, 4, 10, 0, 0, 1, 15, 2, 104, 111, 6, 4, 10, 0, 0, 2, 15, 2, 109, 101, 255])));
    expect(c.dns).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(c.domain).toBe('home');
  });

  it('reads options overloaded into file and sname, file first, and ignores a nested overload', () => {
    const b = withOptions([53, 1, 2, 52, 1, 3, 255]);
    b.set([54, 4, 10, 0, 0, 9, 6, 4, 10, 0, 0, 1, 52, 1, 1, 255], 108); // file
    b.set([6, 4, 10, 0, 0, 2, 255], 44); // sname
    const p = parsed(b);
    expect(p.sname).toBe('');
    expect(p.file).toBe('');
    const c = readOfferContent(p);
    expect(c.serverId).toBe('10.0.0.9');
    expect(c.dns).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(errorOf(withOptions([53, 1, 2, 52, 1, 4, 255]))).toMatch(/overload/);
    const cut = withOptions([53, 1, 2, 52, 1, 1, 255]);
    cut.set([6, 200, 1], 108);
    expect(errorOf(cut)).toMatch(/in file field claims 200/);
  });

  it('shows sname/file as text when they are not overloaded, escaping what a terminal would run', () => {
    const p = parsed(withOptions([53, 1, 2, 15, 6, 0x1b, 0x5b, 0x32, 0x4a, 0x5c, 0, 255], (b) => b.set([0x70, 0x78, 0x65, 0], 44)));
    expect(p.sname).toBe('pxe');
    expect(readOfferContent(p).domain).toBe('\\x1b[2J\\x5c');
  });
});

describe('safeText', () => {
  it('keeps printable ASCII, escapes the rest, drops trailing NULs and caps the length', () => {
    expect(safeText(Uint8Array.from([104, 111, 109, 101, 0, 0]))).toBe('home');
    expect(safeText(Uint8Array.from([0xc3, 0xa9, 0x07]))).toBe('\\xc3\\xa9\\x07');
    expect(safeText(new Uint8Array(300).fill(97), 10)).toBe('aaaaaaaaaa…');
  });
});

describe('parser fuzzing', () => {
  it('never throws on arbitrary bytes, and rejects what is not DHCP', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), (bytes) => {
        const r = parseDhcpPacket(bytes);
        if (bytes.length < DHCP_MIN_SIZE) expect(r.ok).toBe(false);
        if (r.ok) readOfferContent(r.packet); // must not throw either
      }),
      { numRuns: 3000 },
    );
  });

  it('never throws on a valid header followed by random options, and every accepted option lies inside the datagram', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.uint8Array({ minLength: 236, maxLength: 236 }), (opts, header) => {
        const b = withOptions(Array.from(opts), (buf) => {
          buf.set(header.subarray(0, 236));
          buf[0] = 2;
          buf[2] = header[2] % 17;
        });
        const r = parseDhcpPacket(b);
        if (!r.ok) {
          expect(r.error).toMatch(/option|overload|message type/);
          return;
        }
        let total = 0;
        for (const v of r.packet.options.values()) total += v.length;
        expect(total).toBeLessThanOrEqual(b.length);
        const c = readOfferContent(r.packet);
        for (const ip of [...c.router, ...c.dns, ...c.ntp]) expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      }),
      { numRuns: 3000 },
    );
  });

  it('reads back every offer it can build (round trip)', () => {
    const ip = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((t) => t.join('.'));
    fc.assert(
      fc.property(
        fc.record({
          xid: fc.nat({ max: 0xffffffff }),
          yiaddr: ip,
          server: ip,
          routers: fc.array(ip, { minLength: 1, maxLength: 4 }),
          dns: fc.array(ip, { minLength: 1, maxLength: 4 }),
          lease: fc.nat({ max: 0xffffffff }),
          domain: fc.stringMatching(/^[a-z0-9.-]{1,40}$/),
        }),
        (o) => {
          const bytes = encodeReply({
            type: MessageType.OFFER, xid: o.xid, mac: MAC, yiaddr: o.yiaddr,
            options: [
              [Opt.SERVER_ID, ipToBytes(o.server)],
              [Opt.ROUTER, o.routers.flatMap(ipToBytes)],
              [Opt.DNS, o.dns.flatMap(ipToBytes)],
              [Opt.LEASE_TIME, [o.lease >>> 24, (o.lease >>> 16) & 255, (o.lease >>> 8) & 255, o.lease & 255]],
              [Opt.DOMAIN_NAME, Array.from(Buffer.from(o.domain))],
            ],
          });
          const p = parsed(bytes);
          expect(p.xid).toBe(o.xid);
          expect(readOfferContent(p)).toMatchObject({ offeredIp: o.yiaddr, serverId: o.server, router: o.routers, dns: o.dns, leaseSeconds: o.lease, domain: o.domain, invalid: [] });
        },
      ),
      { numRuns: 500 },
    );
  });
});
