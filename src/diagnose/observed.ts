/**
 * The `data` each probe attaches to its observations (docs/observations.md),
 * under the names the rules use. They are the probes' own exported types,
 * imported as types only — nothing of a probe is loaded here, so diagnosis
 * stays pure — so a field a probe adds or changes is seen here at once,
 * never re-declared and left to drift. Rules read them through `dataOf`,
 * which makes every field optional: a saved run from another version, a
 * hand-written fixture or a probe that could not fill a field may lack any
 * of them, and rules prefer `labels`, then `data`, and treat anything absent
 * as "not known", never as "fine".
 */
import type { Observation } from '../probes/types.js';

export type { OfferData as DhcpOfferData, SummaryData as DhcpSummaryData } from '../probes/dhcp.js';
export type { HostData, SweepData } from '../probes/hosts.js';
/** Gateway and target echoes: a target's data is the gateway's without `mac`. */
export type { GatewayData as PingData, HopData, WanSummaryData } from '../probes/wan.js';
export type { QueryData as DnsQueryData, ServerData as DnsServerData } from '../probes/dns.js';
export type { HandshakeData as VpnHandshakeData, ResolveData as VpnResolveData } from '../probes/vpn.js';
export type { DdclientData, PublicIpData, RecordData as DdnsRecordData } from '../probes/ddns.js';
export type { GatewayProtocolData, RouterConnectionData, RouterMappingsData, RouterWanData, UpnpData } from '../probes/router.js';

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
