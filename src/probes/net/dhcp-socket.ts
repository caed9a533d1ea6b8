/**
 * The DHCP client side on the wire: bind UDP port 68, broadcast a DISCOVER,
 * retransmit it inside the window, collect every OFFER for our transaction,
 * and stop at the window's end, at the settle point, or on abort.
 *
 * The socket is bound to 0.0.0.0:68 with SO_REUSEADDR, as busybox udhcpc and
 * ISC dhclient bind theirs, so it coexists with the host's own DHCP client;
 * the kernel hands each broadcast datagram to every socket bound there, and
 * servers broadcast their reply because the DISCOVER sets the broadcast flag.
 * Node cannot set SO_BINDTODEVICE, so the caller picks the interface through
 * the destination: 255.255.255.255 leaves by the default route, an
 * interface's directed broadcast (192.168.1.255) leaves by that interface.
 *
 * Nothing that arrives can throw out of the message handler: a datagram that
 * does not parse is counted as malformed and dropped.
 */
import { createSocket, type Socket } from 'node:dgram';
import {
  BOOTREPLY, DHCP_CLIENT_PORT, DHCP_SERVER_PORT, MessageType,
  parseDhcpPacket, readOfferContent, type DhcpPacket, type OfferContent,
} from './dhcp-packet.js';

/** Binding port 68 failed: no permission (not root, no capability) or held without SO_REUSEADDR. */
export class DhcpBindError extends Error {
  override name = 'DhcpBindError';
  constructor(readonly code: string, readonly port: number, message: string) {
    super(message);
  }
}

export interface ReceivedOffer {
  packet: DhcpPacket;
  content: OfferContent;
  sourceIp: string;
  sourcePort: number;
  /** ms from the first DISCOVER to this offer's arrival. */
  atMs: number;
}

export interface CollectOptions {
  xid: number;
  mac: string;
  /** Builds the DISCOVER for a given `secs` (elapsed seconds, grows on retransmission). */
  discover: (secs: number) => Uint8Array;
  /** Where the DISCOVER goes: 255.255.255.255 or an interface's directed broadcast. */
  target: string;
  serverPort?: number;
  clientPort?: number;
  bindAddress?: string;
  /**
   * A socket already bound to the client port (opened by the probe's
   * `prepare` while netdoctor was still root). It is used as it is and left
   * open afterwards, for its owner to close; without it, one is opened and
   * closed here.
   */
  socket?: Socket;
  /** Hard upper bound for collecting, ms from the first DISCOVER. */
  windowMs: number;
  /** After the newest server's first offer, wait this long for others before stopping early. */
  settleMs: number;
  /** Never stop early before this, ms from the first DISCOVER. */
  minWaitMs?: number;
  /**
   * When to send the DISCOVER again, ms from the first one, until the first
   * offer arrives (as real clients do); times at or past the window are dropped.
   */
  retransmitAtMs: readonly number[];
  signal: AbortSignal;
  onOffer?: (offer: ReceivedOffer) => void;
  /** Test hook: every datagram as it arrives, before parsing. */
  onDatagram?: (bytes: Buffer, from: string) => void;
}

export interface CollectResult {
  /** One per DHCPOFFER for our xid and MAC, in order of arrival, repeats included. */
  offers: ReceivedOffer[];
  /** Datagrams that were not valid DHCP at all. */
  malformed: number;
  /** Why, for the first few of them. */
  malformedSamples: string[];
  /** Valid DHCP not meant for us: other transactions, other clients, other message types. */
  ignored: number;
  /** DISCOVERs actually sent, and why any failed. */
  sent: number;
  sendErrors: string[];
  endedBy: 'settled' | 'window' | 'aborted' | 'unsendable';
  elapsedMs: number;
}

const MAX_SAMPLES = 5;

function bind(socket: Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      socket.off('listening', onListening);
      reject(err);
    };
    const onListening = () => {
      socket.off('error', onError);
      resolve();
    };
    socket.once('error', onError);
    socket.once('listening', onListening);
    socket.bind({ port, address });
  });
}

function send(socket: Socket, bytes: Uint8Array, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.send(bytes, port, address, (err) => (err ? reject(err) : resolve()));
  });
}

/**
 * Opens the client socket. Throws DhcpBindError for EACCES/EPERM (no
 * permission for a port below 1024) and EADDRINUSE; other errors as they are.
 */
export async function openClientSocket(port = DHCP_CLIENT_PORT, address = '0.0.0.0'): Promise<Socket> {
  const socket = createSocket({ type: 'udp4', reuseAddr: true });
  try {
    await bind(socket, port, address);
    socket.setBroadcast(true);
  } catch (err) {
    socket.close();
    const code = (err as NodeJS.ErrnoException).code ?? 'UNKNOWN';
    if (code === 'EACCES' || code === 'EPERM' || code === 'EADDRINUSE') {
      throw new DhcpBindError(code, port, `cannot bind UDP ${address}:${port}: ${(err as Error).message}`);
    }
    throw err;
  }
  return socket;
}

export async function collectOffers(opts: CollectOptions): Promise<CollectResult> {
  const serverPort = opts.serverPort ?? DHCP_SERVER_PORT;
  const result: CollectResult = {
    offers: [], malformed: 0, malformedSamples: [], ignored: 0, sent: 0, sendErrors: [], endedBy: 'window', elapsedMs: 0,
  };
  if (opts.signal.aborted) return { ...result, endedBy: 'aborted' };
  const socket = opts.socket ?? (await openClientSocket(opts.clientPort ?? DHCP_CLIENT_PORT, opts.bindAddress ?? '0.0.0.0'));
  const start = performance.now();
  const elapsed = () => performance.now() - start;
  const timers = new Set<NodeJS.Timeout>();
  const retransmits = new Set<NodeJS.Timeout>();
  const seenServers = new Set<string>();
  let finish!: (how: CollectResult['endedBy']) => void;
  const done = new Promise<CollectResult['endedBy']>((res) => {
    finish = res;
  });
  let settleTimer: NodeJS.Timeout | undefined;
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, Math.max(0, ms));
    timers.add(t);
    return t;
  };

  const malformed = (why: string) => {
    result.malformed++;
    if (result.malformedSamples.length < MAX_SAMPLES) result.malformedSamples.push(why);
  };

  const scheduleSettle = () => {
    const at = Math.max(elapsed() + opts.settleMs, opts.minWaitMs ?? 0);
    if (at >= opts.windowMs) return; // the window timer ends it anyway
    if (settleTimer) {
      clearTimeout(settleTimer);
      timers.delete(settleTimer);
    }
    settleTimer = later(at - elapsed(), () => finish('settled'));
  };

  const onMessage = (msg: Buffer, rinfo: { address: string; port: number }) => {
    try {
      const atMs = elapsed();
      opts.onDatagram?.(msg, rinfo.address);
      const parsed = parseDhcpPacket(msg);
      if (!parsed.ok) return malformed(`${rinfo.address}: ${parsed.error}`);
      const p = parsed.packet;
      if (p.op !== BOOTREPLY || p.xid !== opts.xid || p.chaddr !== opts.mac) {
        result.ignored++;
        return;
      }
      if (p.messageType !== MessageType.OFFER) {
        // An ACK or NAK for a DISCOVER is a server bug; neither is an offer.
        result.ignored++;
        if (p.messageType === undefined) malformed(`${rinfo.address}: reply without a message type (53)`);
        return;
      }
      const content = readOfferContent(p);
      const offer: ReceivedOffer = { packet: p, content, sourceIp: rinfo.address, sourcePort: rinfo.port, atMs };
      result.offers.push(offer);
      for (const t of retransmits) {
        clearTimeout(t);
        timers.delete(t);
      }
      retransmits.clear();
      const key = `${content.serverId ?? ''}|${rinfo.address}`;
      if (!seenServers.has(key)) {
        seenServers.add(key);
        scheduleSettle();
      }
      opts.onOffer?.(offer);
    } catch (err) {
      malformed(`${rinfo.address}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  // After bind, errors (e.g. ICMP-triggered) must never become uncaught exceptions.
  const onError = (err: Error) => {
    if (result.sendErrors.length < MAX_SAMPLES) result.sendErrors.push(err.message);
  };
  socket.on('message', onMessage);
  socket.on('error', onError);

  const onAbort = () => finish('aborted');
  opts.signal.addEventListener('abort', onAbort, { once: true });

  const sendDiscover = async () => {
    try {
      await send(socket, opts.discover(Math.floor(elapsed() / 1000)), serverPort, opts.target);
      result.sent++;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (result.sendErrors.length < MAX_SAMPLES) result.sendErrors.push(`${e.code ?? 'error'}: ${e.message}`);
    }
  };

  try {
    later(opts.windowMs, () => finish('window'));
    for (const at of opts.retransmitAtMs) if (at > 0 && at < opts.windowMs) retransmits.add(later(at, () => void sendDiscover()));
    await sendDiscover();
    if (result.sent === 0) finish('unsendable');
    result.endedBy = await done;
  } finally {
    opts.signal.removeEventListener('abort', onAbort);
    for (const t of timers) clearTimeout(t);
    result.elapsedMs = elapsed();
    socket.off('message', onMessage);
    if (opts.socket) {
      // Not ours to close; keep an error after this collection from becoming an uncaught exception.
      socket.off('error', onError);
      if (socket.listenerCount('error') === 0) socket.on('error', () => {});
    } else {
      socket.close();
    }
  }
  return result;
}
