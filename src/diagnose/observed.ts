/**
 * The `data` each probe attaches to its observations, as docs/observations.md
 * fixes it — the part of that contract the rules read. Every field is read
 * defensively (a saved run from another version, a hand-written fixture, a
 * probe that could not fill a field): rules prefer `labels`, then `data`, and
 * treat anything absent as "not known", never as "fine".
 */
import type { Observation } from '../probes/types.js';

export interface DhcpOfferData {
  serverId?: string;
  sourceIp?: string;
  sourceMac?: string;
  offeredIp?: string;
  subnetMask?: string;
  router?: string[];
  dns?: string[];
  leaseSeconds?: number;
  domain?: string;
  expected?: boolean;
  offerMs?: number;
}

export interface DhcpSummaryData {
  servers?: string[];
  expected?: string[];
  unexpected?: string[];
  windowMs?: number;
  clientMac?: string;
  iface?: string;
}

export interface HostData {
  name?: string;
  mac?: string;
  roles?: string[];
  expectedIp?: string;
  actualIp?: string;
  conflictMac?: string;
  neighbourState?: string;
  rttMs?: number;
  lossPct?: number;
  /** `missing` hosts that still answer on the link over IPv6 (no IPv4 address: fell to link-local). */
  onLink?: boolean;
  linkLocal6?: string;
}

export interface SweepData {
  subnet?: string;
  alive?: Array<{ ip: string; mac: string; state?: string }>;
}

export interface PingData {
  ip?: string;
  mac?: string;
  rttMs?: number;
  lossPct?: number;
}

export interface WanSummaryData {
  reachable?: string[];
  unreachable?: string[];
}

export interface HopData {
  ttl?: number;
  address?: string;
}

export interface DnsQueryData {
  server?: string;
  name?: string;
  type?: string;
  kind?: 'record' | 'external' | 'reverse';
  rcode?: number;
  rcodeName?: string;
  answers?: string[];
  expected?: string;
  attempts?: number;
}

export interface DnsServerData {
  server?: string;
  sources?: string[];
  local?: { ok: number; total: number };
  external?: { ok: number; total: number };
}

export interface VpnHandshakeData {
  address?: string;
  port?: number;
  proto?: string;
  target?: 'expected' | 'found' | 'forward' | 'public' | 'nat-loopback';
  signed?: boolean;
  attempts?: number;
}

export interface VpnResolveData {
  name?: string;
  addresses?: string[];
}

export interface PublicIpData {
  address?: string;
  source?: string;
  tried?: Array<{ source: string; error?: string }>;
}

export interface DdnsRecordData {
  hostname?: string;
  published?: string[];
  actual?: string;
  resolvers?: string[];
  authoritative?: boolean;
}

export interface DdclientData {
  ip?: string;
  status?: string;
  mtime?: string;
}

export interface CgnatData {
  publicIp?: string;
  routerWanIp?: string;
  secondHop?: string;
  why?: string;
}

/** The observation's data, typed for reading; `{}` when the probe attached none. */
export function dataOf<D>(o: Observation | undefined): Partial<D> {
  const d = o?.data;
  return d && typeof d === 'object' ? (d as Partial<D>) : {};
}

/** A list field that may be missing or, in a hand-edited file, a single string. */
export function listOf(v: unknown): string[] {
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  if (typeof v === 'string' && v !== '') return v.split(',').map((s) => s.trim()).filter(Boolean);
  return [];
}
