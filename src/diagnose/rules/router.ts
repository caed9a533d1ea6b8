/**
 * What the router itself says (router probe) as a cause: a UPnP port mapping
 * for the VPN port that still points at an old address, and a WAN link the
 * router reports down or just (re)connected. Fixes name the router's own
 * status page: the address its UPnP description gives, else router.ip.
 */
import { dataOf, type RouterConnectionData, type RouterMappingsData, type UpnpData } from '../observed.js';
import type { ExplainEdge, FindingDraft, Rule, RuleContext } from '../rule.js';
import { vpnHostOf } from './vpn.js';

/** A WAN link up for less than this has just come back: what failed a moment ago may have been the reconnection. */
export const SHORT_UPTIME_S = 300;

/** The router's status page: what its UPnP description names, else http://router.ip/. */
export function statusPage(ctx: RuleContext): string {
  const page = dataOf<UpnpData>(ctx.first('router', 'upnp')).presentationUrl;
  return page ?? (ctx.config.router.ip ? `http://${ctx.config.router.ip}/` : "the router's address in a browser");
}

const mappingStale: Rule = {
  id: 'router-upnp-mapping',
  family: 'vpn',
  question: "whether the router's UPnP port mapping for the VPN leads to the VPN host",
  needs: [],
  produces: ['upnp-mapping-stale'],
  match(ctx) {
    const obs = ctx.first('router', 'mappings');
    const host = vpnHostOf(ctx);
    const { port, proto } = ctx.config.vpn;
    if (!obs || obs.status !== 'ok' || !host || port === undefined) return [];
    const where = ctx.whereIs(host);
    const current = where.state === 'moved' ? where.actual : where.state === 'at-expected' ? host.ip : undefined;
    if (!current) return [];
    const P = (proto ?? 'udp').toUpperCase();
    const out: FindingDraft[] = [];
    for (const m of dataOf<RouterMappingsData>(obs).mappings ?? []) {
      if (m.protocol !== P || (m.internalPort !== port && m.externalPort !== port) || m.internalClient === current || !m.enabled) continue;
      out.push({
        id: 'upnp-mapping-stale',
        labels: { port: String(m.externalPort), to: m.internalClient, actual: current },
        severity: 'critical',
        title: `The router's UPnP mapping ${P} ${m.externalPort} still points at ${m.internalClient}, but ${host.name} is at ${current}`,
        explanation:
          `The router lists a UPnP port mapping ${P} ${m.externalPort} → ${m.internalClient}:${m.internalPort}${m.description ? ` ("${m.description}")` : ''}. ` +
          `${host.name}, the VPN host, is at ${current}${where.state === 'moved' ? ` (it moved from ${host.ip})` : ''}. Connections from outside to port ${m.externalPort} are sent to an address with no VPN behind it, as a stale port forward would.`,
        impact: 'Outside servers cannot connect to the VPN, nor reach anything behind it.',
        consequence: `the router's UPnP mapping ${P} ${m.externalPort} still sends VPN traffic to ${m.internalClient}`,
        evidence: [obs.id, ...(where.obs ? [where.obs.id] : [])],
        fixes: [{
          title: `Remove the old mapping on the router`,
          steps: [
            `Open the router's status page (${statusPage(ctx)}), UPnP section: delete the mapping ${P} ${m.externalPort} → ${m.internalClient} (netdoctor never changes the router itself).`,
            `Restart whatever made it on ${host.name} (the program that asks for the mapping over UPnP) so it asks again from ${current}, or add a fixed port forward to ${current} instead.`,
            'Check: sudo netdoctor check',
          ],
        }],
      });
    }
    return out;
  },
};

const wanLink: Rule = {
  id: 'router-wan-link',
  family: 'wan',
  question: 'whether the router says its WAN link is up',
  needs: [],
  produces: ['router-wan-down'],
  match(ctx) {
    const obs = ctx.first('router', 'connection');
    if (!obs || (obs.status !== 'ok' && obs.status !== 'fail')) return [];
    const d = dataOf<RouterConnectionData>(obs);
    const uptime = d.uptimeS ?? obs.values.uptime_s;
    const down = obs.status === 'fail';
    const internetFailed = ctx.first('wan', 'summary')?.status === 'fail';
    const fresh = !down && internetFailed && uptime !== undefined && uptime < SHORT_UPTIME_S;
    if (!down && !fresh) return [];
    return [{
      id: 'router-wan-down',
      labels: {},
      severity: down ? 'critical' : 'warning',
      title: down
        ? `The router says its internet (WAN) link is ${d.status || 'not connected'}`
        : `The router's internet (WAN) link came up only ${uptime} s ago: it just reconnected or rebooted`,
      explanation: down
        ? `Asked over UPnP, the router reports its WAN connection as "${d.status || 'unknown'}"${d.lastError && d.lastError !== 'ERROR_NONE' ? ` (last error ${d.lastError})` : ''}: the line to the ISP is down at the router, so nothing beyond it can answer.`
        : `Asked over UPnP, the router reports its WAN connection up for only ${uptime} s. The internet failed to answer while it was (re)connecting; check again in a minute.`,
      impact: 'No device reaches the internet while the link is down; the LAN keeps working.',
      consequence: down ? "the router's WAN link is down" : "the router's WAN link was reconnecting",
      evidence: [obs.id],
      fixes: [{
        title: 'Look at the router\'s internet connection',
        steps: [
          `Open the router's status page (${statusPage(ctx)}): its internet/WAN section shows the connection state, the WAN address and since when it is connected.`,
          'Check the modem (or fibre box) and its cable to the router; restart the modem, then the router.',
          "If it stays down, the ISP's side is at fault: check their outage page or call them.",
        ],
      }],
    }];
  },
};

export const routerRules: Rule[] = [mappingStale, wanLink];

export const routerEdges: ExplainEdge[] = [
  { cause: 'upnp-mapping-stale', effect: 'vpn-unreachable', because: "the router's UPnP mapping sends outside VPN traffic to an address with no VPN behind it" },
  { cause: 'router-wan-down', effect: 'wan-down', because: 'the router itself says its WAN link is down (or was reconnecting)' },
];
