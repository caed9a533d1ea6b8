/**
 * The router's own view, asked without a password and never changed: UPnP
 * IGD (SSDP discovery, then GetExternalIPAddress, GetStatusInfo and the
 * port-mapping list) and, at the same time, NAT-PMP or PCP on the gateway's
 * port 5351. Facts only: the WAN address it reports (or withholds), the WAN
 * link's status and uptime, the mappings, and which protocols answered. The
 * rules decide what they mean (CGNAT, a stale mapping, a WAN link down).
 * See docs/probes/router.md.
 */
import { networkInterfaces } from 'node:os';
import { errorMessage } from '../shared/errors.js';
import { formatDuration } from '../shared/duration.js';
import { isIPv4, inSubnet, subnetOf } from '../shared/ipv4.js';
import { fetchDescription, listMappings, soapCall, type IgdDescription, type PortMapping, type SoapAnswer } from './net/igd.js';
import { askGateway, type GatewayAnswer } from './net/natpmp.js';
import { discoverIgd, type SsdpAnswer } from './net/ssdp.js';
import type { Probe, ProbeContext } from './types.js';

/** The SSDP window: the longest a check waits for a router to answer discovery (docs/probes/router.md). */
export const SSDP_WINDOW_MS = 1500;
const SOAP_TIMEOUT_MS = 1500;
const GATEWAY_TIMEOUT_MS = 1500;
const MARGIN_MS = 300;

export interface UpnpData {
  location: string;
  server?: string;
  friendlyName?: string;
  manufacturer?: string;
  modelName?: string;
  /** The router's own status page, as its description names it. */
  presentationUrl?: string;
  serviceType?: string;
  answerMs: number;
}

export interface RouterWanData {
  /** What the router reported; absent when it answered with no address. */
  address?: string;
  source: 'upnp' | 'nat-pmp';
}

export interface RouterConnectionData {
  status: string;
  uptimeS?: number;
  lastError?: string;
}

export interface RouterMappingsData {
  mappings: PortMapping[];
  /** The list was read to its end (the router said 713). */
  complete: boolean;
  unreadable: number;
}

export interface GatewayProtocolData {
  gateway: string;
  answer?: GatewayAnswer;
  answerMs: number;
}

export const routerProbe: Probe = {
  name: 'router',
  title: "The router's own view over UPnP IGD and NAT-PMP/PCP: WAN address, link status and uptime, port mappings (read-only)",
  vantages: ['inside'],
  async run(ctx) {
    const gateway = ctx.config.router.ip;
    const local = localAddress(ctx.config.interface, gateway);
    await Promise.all([upnp(ctx, gateway, local), gatewayProtocols(ctx, gateway, local)]);
  },
};

/** This machine's address on the LAN: the interface's IPv4 address in the gateway's subnet, or its first one. */
function localAddress(iface: string | undefined, gateway: string | undefined): string | undefined {
  const addrs = (iface ? networkInterfaces()[iface] ?? [] : []).filter((a) => a.family === 'IPv4' && !a.internal);
  const near = gateway ? addrs.find((a) => a.cidr && inSubnet(gateway, subnetOf(a.address, Number(a.cidr.split('/')[1])))) : undefined;
  return (near ?? addrs[0])?.address;
}

async function upnp(ctx: ProbeContext, gateway: string | undefined, local: string | undefined): Promise<void> {
  if (!ctx.config.router.upnp) {
    ctx.emit({ check: 'upnp', subject: 'router', status: 'skipped', reason: 'not-selected', summary: 'UPnP not asked (router.upnp: false in netdoctor.yaml)' });
    return;
  }
  const windowMs = Math.min(SSDP_WINDOW_MS, ctx.deadline - Date.now() - MARGIN_MS);
  let answers: SsdpAnswer[];
  try {
    answers = await discoverIgd({ localAddress: local, gateway, windowMs, signal: ctx.signal, enough: 1 });
  } catch (err) {
    ctx.emit({ check: 'upnp', subject: 'router', status: 'error', reason: 'unmeasured', summary: `could not send UPnP discovery: ${errorMessage(err)}` });
    return;
  }
  if (ctx.signal.aborted) return;
  // The gateway's own answer first; another IGD on the LAN is not the router.
  const found = answers.find((a) => a.from === gateway) ?? (gateway ? undefined : answers[0]);
  if (!found) {
    const others = answers.length ? `; ${answers.map((a) => a.from).join(', ')} answered, not the gateway` : '';
    ctx.emit({
      check: 'upnp', subject: 'router', status: 'skipped', reason: 'not-offered',
      summary: `no UPnP gateway answered within ${formatDuration(windowMs, { spaced: true })}: UPnP is off on the router (or it has none)${others}`,
      values: { window_ms: windowMs },
    });
    return;
  }
  const opts = { timeoutMs: Math.max(200, Math.min(SOAP_TIMEOUT_MS, ctx.deadline - Date.now() - MARGIN_MS)), signal: ctx.signal, deadline: ctx.deadline - MARGIN_MS };
  let d: IgdDescription;
  try {
    d = await fetchDescription(found.location, opts);
  } catch (err) {
    ctx.emit({ check: 'upnp', subject: 'router', status: 'error', reason: 'unmeasured', summary: `the router answered discovery, but its description ${found.location} could not be read: ${errorMessage(err)}`, data: { location: found.location, answerMs: found.afterMs } });
    return;
  }
  const data: UpnpData = {
    location: found.location,
    ...(found.server ? { server: found.server } : {}),
    ...(d.friendlyName ? { friendlyName: d.friendlyName } : {}),
    ...(d.manufacturer ? { manufacturer: d.manufacturer } : {}),
    ...(d.modelName ? { modelName: d.modelName } : {}),
    ...(d.presentationUrl ? { presentationUrl: d.presentationUrl } : {}),
    ...(d.wan ? { serviceType: d.wan.serviceType } : {}),
    answerMs: found.afterMs,
  };
  const name = d.friendlyName ? ` (${d.friendlyName})` : '';
  ctx.emit({
    check: 'upnp', subject: 'router', status: 'ok', reason: 'found',
    summary: `the router ${found.from}${name} answers UPnP IGD in ${formatDuration(found.afterMs, { spaced: true })}${d.wan ? '' : ', but names no WAN connection service'}`,
    labels: { ip: found.from }, values: { answer_ms: found.afterMs }, data,
  });
  if (!d.wan) return;
  const wan = d.wan;
  const [ext, status, list] = await Promise.allSettled([
    soapCall(wan, 'GetExternalIPAddress', opts),
    soapCall(wan, 'GetStatusInfo', opts),
    listMappings(wan, opts),
  ]);
  if (ext.status === 'fulfilled' && ext.value.ok) {
    const address = ext.value.values.NewExternalIPAddress;
    const ok = address !== undefined && isIPv4(address);
    ctx.emit({
      check: 'wan-address', subject: 'upnp', status: 'ok', reason: ok ? 'reported' : 'withheld',
      summary: ok ? `the router says its WAN address is ${address}` : 'the router answers GetExternalIPAddress with no address (it withholds a WAN address that is private or reserved, or has none)',
      labels: ok ? { address } : {},
      data: { ...(ok ? { address } : {}), source: 'upnp' } satisfies RouterWanData,
    });
  } else {
    ctx.emit({ check: 'wan-address', subject: 'upnp', status: 'error', reason: 'unmeasured', summary: `GetExternalIPAddress: ${ext.status === 'rejected' ? errorMessage(ext.reason) : faultText(ext.value)}` });
  }
  if (status.status === 'fulfilled' && status.value.ok) {
    const v = status.value.values;
    const state = v.NewConnectionStatus ?? '';
    const uptimeS = v.NewUptime !== undefined && /^\d{1,10}$/.test(v.NewUptime) ? Number(v.NewUptime) : undefined;
    const up = state === 'Connected';
    ctx.emit({
      check: 'connection', subject: 'wan', status: up ? 'ok' : 'fail', reason: up ? 'connected' : 'not-connected',
      summary: `the router says its WAN link is ${state || 'of unknown status'}${up && uptimeS !== undefined ? `, up for ${formatDuration(uptimeS * 1000, { spaced: true })}` : ''}${v.NewLastConnectionError && v.NewLastConnectionError !== 'ERROR_NONE' ? ` (last error ${v.NewLastConnectionError})` : ''}`,
      values: uptimeS !== undefined ? { uptime_s: uptimeS } : {},
      data: { status: state, ...(uptimeS !== undefined ? { uptimeS } : {}), ...(v.NewLastConnectionError ? { lastError: v.NewLastConnectionError } : {}) } satisfies RouterConnectionData,
    });
  } else {
    ctx.emit({ check: 'connection', subject: 'wan', status: 'error', reason: 'unmeasured', summary: `GetStatusInfo: ${status.status === 'rejected' ? errorMessage(status.reason) : faultText(status.value)}` });
  }
  if (list.status === 'fulfilled') {
    const { mappings, complete, unreadable } = list.value;
    ctx.emit({
      check: 'mappings', subject: 'upnp', status: 'ok', reason: complete ? 'listed' : 'partial',
      summary: `${mappings.length ? `UPnP port mappings: ${mappings.map((m) => `${m.protocol} ${m.externalPort} → ${m.internalClient}:${m.internalPort}${m.enabled ? '' : ' (disabled)'}`).join(', ')}` : 'no UPnP port mappings'}${complete ? '' : ' (list not read to its end)'}`,
      values: { count: mappings.length },
      data: { mappings, complete, unreadable } satisfies RouterMappingsData,
    });
  } else {
    ctx.emit({ check: 'mappings', subject: 'upnp', status: 'error', reason: 'unmeasured', summary: `GetGenericPortMappingEntry: ${errorMessage(list.reason)}` });
  }
}

function faultText(a: SoapAnswer): string {
  if (a.ok) return 'answered';
  return `the router answered with UPnP error ${a.code ?? '?'}${a.description ? ` ${a.description}` : ''}`;
}

async function gatewayProtocols(ctx: ProbeContext, gateway: string | undefined, local: string | undefined): Promise<void> {
  if (!gateway || !isIPv4(gateway)) {
    ctx.emit({ check: 'nat-pmp', subject: 'router', status: 'skipped', reason: 'not-configured', summary: 'no gateway to ask NAT-PMP/PCP: set router.ip in netdoctor.yaml' });
    return;
  }
  const timeoutMs = Math.max(200, Math.min(GATEWAY_TIMEOUT_MS, ctx.deadline - Date.now() - MARGIN_MS));
  const r = await askGateway({ gateway, localAddress: local, timeoutMs, signal: ctx.signal });
  if (ctx.signal.aborted) return;
  const data: GatewayProtocolData = { gateway, ...(r.answer ? { answer: r.answer } : {}), answerMs: r.elapsedMs };
  const a = r.answer;
  if (!a) {
    ctx.emit({
      check: 'nat-pmp', subject: 'router', status: 'skipped', reason: 'not-offered',
      summary: `${gateway} answers neither NAT-PMP nor PCP on UDP 5351${r.refused ? ' (port closed)' : ` within ${formatDuration(timeoutMs, { spaced: true })}`}`,
      labels: { ip: gateway }, data,
    });
    return;
  }
  const what = a.protocol === 'pcp' ? 'PCP' : 'NAT-PMP';
  ctx.emit({
    check: 'nat-pmp', subject: 'router', status: 'ok', reason: a.protocol,
    summary: `${gateway} answers ${what} in ${formatDuration(r.elapsedMs, { spaced: true })} (${a.result}${a.protocol === 'nat-pmp' && a.externalAddress ? `, external address ${a.externalAddress}` : ''})`,
    labels: { ip: gateway }, values: { answer_ms: r.elapsedMs }, data,
  });
  if (a.protocol === 'nat-pmp' && a.externalAddress && a.result === 'success') {
    ctx.emit({
      check: 'wan-address', subject: 'nat-pmp', status: 'ok', reason: 'reported',
      summary: `the router says over NAT-PMP that its external address is ${a.externalAddress}`,
      labels: { address: a.externalAddress },
      data: { address: a.externalAddress, source: 'nat-pmp' } satisfies RouterWanData,
    });
  }
}
