/**
 * SSDP discovery of an Internet Gateway Device (UPnP Device Architecture
 * 1.1 §1.3): one M-SEARCH per IGD version to 239.255.255.250:1900 out of the
 * LAN interface (and the same datagram straight to the gateway, which
 * miniupnpd and most routers answer), then answers are collected until the
 * window ends or the signal aborts. Nothing but LOCATION is believed, and only
 * when it points at the host that answered (a stray answer cannot send the
 * description fetch elsewhere). Read-only: M-SEARCH asks, it changes nothing.
 */
import dgram from 'node:dgram';
import { isIPv4 } from '../../shared/ipv4.js';

export const SSDP_ADDRESS = '239.255.255.250';
export const SSDP_PORT = 1900;
export const IGD_TYPES = ['urn:schemas-upnp-org:device:InternetGatewayDevice:2', 'urn:schemas-upnp-org:device:InternetGatewayDevice:1'] as const;
/** Datagrams longer than this are not SSDP answers (they are a few hundred bytes). */
export const MAX_SSDP_REPLY = 2048;

export interface SsdpAnswer {
  /** Who sent the datagram. */
  from: string;
  location: string;
  st: string;
  usn?: string;
  server?: string;
  /** Ms from the first M-SEARCH to this answer. */
  afterMs: number;
}

export interface SsdpOptions {
  /** The LAN interface's own IPv4 address: multicast leaves from it. */
  localAddress?: string;
  /** Also asked by unicast (the router). */
  gateway?: string;
  windowMs: number;
  signal?: AbortSignal;
  /** Stop as soon as this many answers came (default: collect for the whole window). */
  enough?: number;
}

/** The M-SEARCH for one search target; MX 1 so devices answer within the first second. */
export function mSearch(st: string): Buffer {
  return Buffer.from(`M-SEARCH * HTTP/1.1\r\nHOST: ${SSDP_ADDRESS}:${SSDP_PORT}\r\nMAN: "ssdp:discover"\r\nMX: 1\r\nST: ${st}\r\nUSER-AGENT: netdoctor UPnP/1.1\r\n\r\n`, 'latin1');
}

/**
 * Reads one SSDP answer: an `HTTP/1.1 200` head with LOCATION and ST. Returns
 * undefined for anything else (NOTIFY, M-SEARCH of others, junk, a LOCATION
 * that is not http:// on the answering host).
 */
export function parseSsdpAnswer(datagram: Uint8Array, from: string): Omit<SsdpAnswer, 'afterMs'> | undefined {
  if (datagram.length > MAX_SSDP_REPLY || !isIPv4(from)) return undefined;
  const text = Buffer.from(datagram).toString('latin1');
  const lines = text.split(/\r?\n/);
  if (!/^HTTP\/1\.[01] 200(?: |$)/.test(lines[0] ?? '')) return undefined;
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    if (line === '') break;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(key)) headers.set(key, line.slice(colon + 1).trim());
  }
  const location = headers.get('location');
  const st = headers.get('st');
  if (!location || !st || !locationOnHost(location, from)) return undefined;
  const clean = (v: string | undefined) => (v ? v.replace(/[^\x20-\x7e]/g, '').slice(0, 200) : undefined);
  const usn = clean(headers.get('usn'));
  const server = clean(headers.get('server'));
  return { from, location, st: clean(st)!, ...(usn ? { usn } : {}), ...(server ? { server } : {}) };
}

/** LOCATION must be plain http on the host that answered: that is the router, not a place it names. */
function locationOnHost(location: string, from: string): boolean {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    return false;
  }
  return url.protocol === 'http:' && url.hostname === from && url.username === '' && url.password === '';
}

/**
 * Sends the M-SEARCHes and collects answers for `windowMs` (or until `enough`
 * came, or the signal aborts). Socket errors end the window early with what
 * was collected; they reject only when nothing could be sent at all.
 */
export function discoverIgd(opts: SsdpOptions): Promise<SsdpAnswer[]> {
  return new Promise((resolve, reject) => {
    const answers: SsdpAnswer[] = [];
    const seen = new Set<string>();
    const started = performance.now();
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: false });
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      socket.close();
      if (err && answers.length === 0) reject(err);
      else resolve(answers);
    };
    const onAbort = () => finish();
    const timer = setTimeout(() => finish(), Math.max(0, opts.windowMs));
    socket.on('error', (err) => finish(err));
    socket.on('message', (msg, rinfo) => {
      const a = parseSsdpAnswer(msg, rinfo.address);
      if (!a || seen.has(`${a.from} ${a.location}`)) return;
      seen.add(`${a.from} ${a.location}`);
      answers.push({ ...a, afterMs: Math.round(performance.now() - started) });
      if (opts.enough !== undefined && answers.length >= opts.enough) finish();
    });
    if (opts.signal?.aborted) return finish();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    socket.bind({ address: opts.localAddress ?? '0.0.0.0', port: 0 }, () => {
      if (done) return;
      try {
        if (opts.localAddress) socket.setMulticastInterface(opts.localAddress);
        socket.setMulticastTTL(2);
      } catch (err) {
        return finish(err as Error);
      }
      const to = [SSDP_ADDRESS, ...(opts.gateway && isIPv4(opts.gateway) ? [opts.gateway] : [])];
      for (const st of IGD_TYPES) for (const host of to) socket.send(mSearch(st), SSDP_PORT, host, () => undefined);
    });
  });
}
