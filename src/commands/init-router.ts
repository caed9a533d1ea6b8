/**
 * What `init` tells about the router from the router probe's observations:
 * UPnP and NAT-PMP/PCP yes or no, the WAN address it gave (or withheld), and
 * the `router.wanIp` line the starter file proposes accordingly.
 */
import { isIPv4, isPrivate, inSubnet, SHARED_CGNAT } from '../shared/ipv4.js';
import type { Observation } from '../probes/types.js';

export interface RouterAnswer {
  upnp: boolean;
  natPmp?: 'nat-pmp' | 'pcp';
  wanAddress?: string;
  withheld: boolean;
}

/** The router probe's answer, or undefined when it did not run. */
export function routerAnswerOf(observations: readonly Observation[]): RouterAnswer | undefined {
  const mine = observations.filter((o) => o.probe === 'router');
  if (mine.length === 0) return undefined;
  const wan = mine.find((o) => o.check === 'wan-address' && o.status === 'ok');
  const address = (wan?.data as { address?: unknown } | undefined)?.address;
  const nat = mine.find((o) => o.check === 'nat-pmp' && o.status === 'ok');
  return {
    upnp: mine.some((o) => o.check === 'upnp' && o.status === 'ok'),
    ...(nat ? { natPmp: nat.reason === 'pcp' ? 'pcp' : 'nat-pmp' } : {}),
    ...(typeof address === 'string' && isIPv4(address) ? { wanAddress: address } : {}),
    withheld: wan?.reason === 'withheld',
  };
}

/** One line for init's scan summary. */
export function describeRouterAnswer(r: RouterAnswer): string {
  const protocols = `UPnP ${r.upnp ? 'yes' : 'no'}, NAT-PMP/PCP ${r.natPmp ? `yes (${r.natPmp === 'pcp' ? 'PCP' : 'NAT-PMP'})` : 'no'}`;
  const wan = r.wanAddress ? `, WAN address ${r.wanAddress}` : r.withheld ? ', WAN address withheld (private or reserved)' : '';
  return `router     ${protocols}${wan}`;
}

/** The starter file's router.wanIp line: live when the router named a public address, else a comment saying why not. */
export function wanIpLine(r: RouterAnswer | undefined): string {
  const a = r?.wanAddress;
  if (a && !isPrivate(a) && !inSubnet(a, SHARED_CGNAT)) return `  wanIp: ${a}   # the router's WAN address, as it said over UPnP/NAT-PMP`;
  if (a) return `  # wanIp: ...   # the router says its WAN address is ${a}: not public (carrier-grade NAT or another NAT in front); netdoctor asks the router itself each run`;
  if (r?.upnp || r?.natPmp) return '  # wanIp: 203.0.113.10   # the router answers UPnP/NAT-PMP but gave no WAN address; netdoctor asks it each run';
  return '  # wanIp: 203.0.113.10   # its public (WAN) address, if you know it: spots carrier-grade NAT';
}
