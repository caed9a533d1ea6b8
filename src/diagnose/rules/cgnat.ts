/**
 * Carrier-grade NAT, judged from facts of three probes: the router's own WAN
 * address (router probe over UPnP or NAT-PMP; else router.wanIp), the public
 * address (ddns), and the hops past the gateway (wan, towards several
 * destinations). A destination reached within two hops is itself the second
 * hop and says nothing about what lies past the gateway: alone it gives
 * *unknown*, never "public". See docs/rules.md.
 */
import { SHARED_CGNAT, inSubnet, isIPv4, isPrivate } from '../../shared/ipv4.js';
import type { Observation } from '../../probes/types.js';
import { dataOf, type HopData, type PublicIpData, type RouterWanData } from '../observed.js';
import type { FindingDraft, Rule, RuleContext } from '../rule.js';
import { listing } from '../words.js';

/** What the judgement rests on; `why` names the deciding fact. Also the data of `ddns:cgnat` in runs recorded before this rule. */
export interface CgnatData {
  publicIp?: string;
  routerWanIp?: string;
  /** Where routerWanIp came from. */
  routerWanSource?: 'upnp' | 'nat-pmp' | 'config';
  secondHop?: string;
  /** Destinations reached within two hops: no evidence either way. */
  nearTargets?: string[];
  why: string;
}

export interface CgnatVerdict {
  verdict: 'cgnat' | 'public' | 'unknown';
  summary: string;
  data: CgnatData;
}

const isShared = (ip: string) => isIPv4(ip) && inSubnet(ip, SHARED_CGNAT);

/** Pure: is there a NAT between the router and the internet? Hops are real routers past the gateway (TTL exceeded), not reached targets. */
export function judgeCgnat(input: { routerWanIp?: string; routerWanSource?: CgnatData['routerWanSource']; publicIp?: string; hops?: string[]; nearTargets?: string[] }): CgnatVerdict {
  const { routerWanIp, publicIp } = input;
  const hops = input.hops ?? [];
  const secondHop = hops.find(isShared) ?? hops.find(isPrivate) ?? hops[0];
  const base: Omit<CgnatData, 'why'> = {
    ...(publicIp ? { publicIp } : {}),
    ...(routerWanIp ? { routerWanIp, routerWanSource: input.routerWanSource ?? 'config' } : {}),
    ...(secondHop ? { secondHop } : {}),
    ...(input.nearTargets?.length ? { nearTargets: input.nearTargets } : {}),
  };
  const pub = publicIp ? ` (the world sees ${publicIp})` : '';
  const v = (verdict: CgnatVerdict['verdict'], why: string, summary: string): CgnatVerdict => ({ verdict, summary, data: { ...base, why } });
  const fromRouter = input.routerWanSource === 'upnp' || input.routerWanSource === 'nat-pmp';
  if (routerWanIp && isShared(routerWanIp)) return v('cgnat', 'wan-ip-shared', `the router's WAN address ${routerWanIp} is in ${SHARED_CGNAT.cidr}, carrier-grade NAT space${pub}`);
  if (secondHop && isShared(secondHop)) return v('cgnat', 'second-hop-shared', `the hop past the gateway, ${secondHop}, is in ${SHARED_CGNAT.cidr}: the ISP puts this router behind carrier-grade NAT${pub}`);
  if (publicIp && isShared(publicIp)) return v('cgnat', 'public-ip-shared', `the public address ${publicIp} is in ${SHARED_CGNAT.cidr}`);
  if (routerWanIp && isPrivate(routerWanIp) && publicIp && publicIp !== routerWanIp) {
    return v('cgnat', 'wan-ip-private', `the router's WAN address ${routerWanIp} is private while the world sees ${publicIp}: another NAT sits in front of this router`);
  }
  if (secondHop && isPrivate(secondHop)) return v('cgnat', 'second-hop-private', `the hop past the gateway, ${secondHop}, is a private address: another NAT (a carrier NAT or the ISP's modem in router mode) sits in front of this router${pub}`);
  if (routerWanIp && publicIp && routerWanIp !== publicIp) {
    if (fromRouter) return v('cgnat', 'public-differs', `the router says its WAN address is ${routerWanIp}, but the world sees ${publicIp}: a NAT past the router`);
    // A public hop right past the gateway means the router's WAN is on a public network: the address changed, it is not hidden.
    if (secondHop) return v('public', 'wan-ip-changed', `the public address is ${publicIp}, not router.wanIp ${routerWanIp}; the hop past the gateway (${secondHop}) is public, so the WAN address changed (update router.wanIp) — no carrier-grade NAT`);
    return v('unknown', 'wan-ip-differs', `carrier-grade NAT unknown: the public address ${publicIp} is not router.wanIp ${routerWanIp}; either router.wanIp is out of date or a NAT past the router hides it, and no hop past the gateway was seen to tell`);
  }
  if (publicIp && routerWanIp === publicIp) return v('public', 'wan-ip-matches', `the public address ${publicIp} is the router's own WAN address`);
  if (secondHop) return v('public', 'second-hop-public', `the hop past the gateway, ${secondHop}, is a public address: the router is directly on the internet${pub}`);
  if (input.nearTargets?.length) {
    return v('unknown', 'target-within-two-hops', `carrier-grade NAT unknown: ${listing(input.nearTargets)} ${input.nearTargets.length === 1 ? 'answers' : 'answer'} within two hops, which says nothing about the address past the gateway`);
  }
  return v('unknown', 'no-evidence', 'carrier-grade NAT unknown: neither the router\'s WAN address nor the hop past the gateway is known');
}

/** The facts the judgement rests on, from this run's observations. */
function facts(ctx: RuleContext): { input: Parameters<typeof judgeCgnat>[0]; evidence: Observation[] } {
  const wan = ctx.of('router', 'wan-address').find((o) => o.status === 'ok' && isIPv4(dataOf<RouterWanData>(o).address ?? ''));
  const pub = ctx.first('ddns', 'public-ip');
  const hopObs = ctx.of('wan', 'hop').filter((o) => o.status === 'ok');
  const hops: string[] = [];
  const near: string[] = [];
  for (const o of hopObs) {
    const d = dataOf<HopData>(o);
    if (!d.address || !isIPv4(d.address)) continue;
    (d.reachedTarget ? near : hops).push(d.address);
  }
  const wd = dataOf<RouterWanData>(wan);
  const publicIp = pub?.status === 'ok' ? dataOf<PublicIpData>(pub).address : undefined;
  const routerWanIp = wd.address ?? ctx.config.router.wanIp;
  return {
    input: {
      ...(routerWanIp ? { routerWanIp, routerWanSource: wd.address ? wd.source ?? 'upnp' : 'config' } : {}),
      ...(publicIp ? { publicIp } : {}),
      hops: [...new Set(hops)],
      nearTargets: [...new Set(near)],
    },
    evidence: [...(wan ? [wan] : []), ...(pub?.status === 'ok' ? [pub] : []), ...hopObs],
  };
}

export const cgnatRule: Rule = {
  id: 'wan-cgnat',
  family: 'wan',
  question: 'whether the router has a public address of its own (no carrier-grade NAT)',
  needs: ['ddns'],
  produces: ['cgnat', 'cgnat-unknown'],
  match(ctx) {
    // A run recorded before the judgement moved here carries the ddns probe's own verdict.
    const legacy = ctx.first('ddns', 'cgnat');
    const { input, evidence } = facts(ctx);
    const v: CgnatVerdict = legacy
      ? { verdict: legacy.status === 'fail' && legacy.reason === 'cgnat' ? 'cgnat' : legacy.reason === 'public' ? 'public' : 'unknown', summary: legacy.summary, data: dataOf<CgnatData>(legacy) as CgnatData }
      : judgeCgnat(input);
    const inbound = ctx.config.router.forwards.length > 0 || ctx.config.vpn.publicName !== undefined;
    const ev = legacy ? [legacy, ...evidence.filter((o) => o.check === 'hop' && isShared(dataOf<HopData>(o).address ?? ''))] : evidence;
    if (v.verdict === 'cgnat') return [cgnatFinding(ctx, v, ev.map((o) => o.id), inbound)];
    // Said only when it matters (a way in from outside) and the public address is known (else ddns-unknown says so); an old recording's unknown stays as it was shown then.
    if (v.verdict === 'unknown' && inbound && !legacy && v.data.why !== 'no-evidence' && v.data.publicIp) return [unknownFinding(ctx, v, ev.map((o) => o.id))];
    return [];
  },
};

function unknownFinding(ctx: RuleContext, v: CgnatVerdict, evidence: string[]): FindingDraft {
  const near = v.data.nearTargets ?? [];
  return {
    id: 'cgnat-unknown',
    labels: {},
    severity: 'unknown',
    title: 'Whether the ISP puts the router behind carrier-grade NAT could not be told',
    explanation:
      `${v.summary.replace(/^carrier-grade NAT unknown: /, '').replace(/^./, (c) => c.toUpperCase())}. ` +
      'netdoctor needs the router\'s own WAN address (UPnP or NAT-PMP on the router, or router.wanIp) or a router answering past the gateway on the way to a farther destination. That is not the same as "public".',
    impact: 'Unknown whether outside servers can reach home through the port forwards at all.',
    consequence: 'whether the line is behind carrier-grade NAT could not be told',
    evidence,
    fixes: [{
      title: 'Tell netdoctor where the router stands',
      steps: [
        `Open the router's status page (${ctx.config.router.ip ? `http://${ctx.config.router.ip}/` : 'its address in a browser'}): the internet/WAN section shows its WAN address. Put it in netdoctor.yaml as router.wanIp, or switch on UPnP (or NAT-PMP) on the router so netdoctor can ask.`,
        ...(near.length ? [`Add a wan.targets address farther away than ${listing(near)} (for example 1.1.1.1), so the hop past the gateway shows.`] : []),
      ],
    }],
  };
}

function cgnatFinding(ctx: RuleContext, v: CgnatVerdict, evidence: string[], inbound: boolean): FindingDraft {
  const d = v.data;
  const wanIp = d.routerWanIp;
  const publicIp = d.publicIp;
  const reasons: string[] = [];
  if (wanIp && isShared(wanIp)) reasons.push(`the router${d.routerWanSource && d.routerWanSource !== 'config' ? ` itself (over ${d.routerWanSource === 'upnp' ? 'UPnP' : 'NAT-PMP'})` : ''} gives its WAN address as ${wanIp}, in ${SHARED_CGNAT.cidr}, the range ISPs use for carrier-grade NAT`);
  else if (wanIp && isPrivate(wanIp) && d.why === 'wan-ip-private') reasons.push(`the router gives its WAN address as ${wanIp}, a private address`);
  if (d.secondHop && (isShared(d.secondHop) || isPrivate(d.secondHop)) && !(wanIp && isShared(wanIp))) reasons.push(`the first router past your gateway is ${d.secondHop}, ${isShared(d.secondHop) ? `in ${SHARED_CGNAT.cidr}, the range ISPs use for carrier-grade NAT` : 'a private address'}`);
  if (publicIp && wanIp && publicIp !== wanIp) reasons.push(`the address the internet sees, ${publicIp}, is not the router's WAN address ${wanIp}`);
  if (reasons.length === 0) reasons.push(v.summary);
  const fwd = ctx.config.router.forwards;
  const status = ctx.config.router.ip ? `http://${ctx.config.router.ip}/` : "the router's address";
  return {
    id: 'cgnat',
    labels: {},
    ...(publicIp ? { facts: { publicIp } } : {}),
    severity: inbound ? 'critical' : 'warning',
    title: `Carrier-grade NAT: the ISP shares ${publicIp ?? 'its public address'} among customers, so no port forward can reach home`,
    explanation:
      `${reasons.map((r, i) => (i === 0 ? r.charAt(0).toUpperCase() + r.slice(1) : r)).join('; and ')}. ` +
      `The router is itself behind the ISP's NAT: connections from outside to ${publicIp ?? 'the public address'} end at the ISP and never reach the router` +
      (fwd.length ? `, so the forward of ${listing(fwd.map((f) => `${f.proto.toUpperCase()} ${f.port} to ${f.to}`))} can never be used.` : '.'),
    impact: inbound
      ? 'Outside servers cannot reach the VPN or anything else forwarded; everything inside the LAN, and connections out, still work.'
      : 'Nothing from outside can connect in; connections out still work.',
    consequence: `the ISP put the line behind carrier-grade NAT${publicIp ? ` (shared address ${publicIp})` : ''}`,
    evidence,
    fixes: [
      {
        title: 'Ask the ISP for a public IPv4 address',
        steps: [
          `See it yourself: the router's status page (${status}) shows its internet (WAN) address on its overview or internet page; an address starting 100.64–100.127, 10., 172.16–31. or 192.168. is not public.`,
          'Ask for a public (not shared, not CGNAT) IPv4 address; many ISPs give one on request or for a small fee, some call it "opting out of CGNAT".',
          'A static one also spares you the DDNS update.',
          'Check afterwards: sudo netdoctor check shows no cgnat finding.',
        ],
      },
      {
        title: 'Or turn the connection around: let home connect out',
        steps: [
          `Run the VPN server on a machine with a public address (for example the VPS your outside servers run on) and make ${ctx.config.vpn.host ?? 'the VPN Pi'} connect out to it as a client; outbound connections work through CGNAT.`,
          'If the ISP gives IPv6, reaching home over IPv6 needs no NAT at all.',
        ],
      },
    ],
  };
}
