/**
 * The way in: does the VPN answer where it should, does the router's port
 * forward lead to it, and can the outside world reach it by name. The VPN
 * host's whereabouts come from the hosts probe, so a forward left pointing at
 * an old address is told apart from a VPN service that stopped.
 */
import type { HostConfig } from '../../config/schema.js';
import type { Observation } from '../../probes/types.js';
import { isLinkLocal } from '../../shared/ipv4.js';
import { routerForwardFix, staticAddressFixes } from '../fixes.js';
import { dataOf, listOf, type VpnHandshakeData, type VpnResolveData } from '../observed.js';
import type { ExplainEdge, FindingDraft, Rule, RuleContext } from '../rule.js';
import type { Fix } from '../types.js';
import { isUsable } from '../words.js';
import { keyFix, kindWords, restartVpnFix, wrongKey } from './vpn-kinds.js';

interface Handshake {
  obs: Observation;
  target: string;
  address: string;
  port: number;
  proto: string;
  signed: boolean;
}

function handshakes(ctx: RuleContext): Handshake[] {
  return ctx.of('vpn', 'handshake').map((obs) => {
    const d = dataOf<VpnHandshakeData>(obs);
    const [addrPart, rest = ''] = obs.subject.split(':');
    const [portPart, protoPart] = rest.split('/');
    return {
      obs,
      target: obs.labels.target ?? d.target ?? 'expected',
      address: obs.labels.address ?? d.address ?? addrPart,
      port: Number(obs.labels.port ?? d.port ?? portPart),
      proto: obs.labels.proto ?? d.proto ?? protoPart ?? ctx.config.vpn.proto,
      signed: d.signed === true,
    };
  });
}

export function vpnHostOf(ctx: RuleContext): HostConfig | undefined {
  return ctx.hostByName(ctx.config.vpn.host) ?? ctx.config.hosts.find((h) => h.roles?.includes('vpn'));
}

const REASON_TEXT: Record<string, string> = {
  refused: 'refused (port unreachable: nothing listens there)',
  'host-unreachable': 'no host at that address',
  'no-reply': 'silence',
  'wrong-key': 'an answer under another key',
  answered: 'answered',
};
/** Something answered there: the VPN, or a VPN under another key. */
const reached = (h: Handshake) => h.obs.status === 'ok' || h.obs.reason === 'wrong-key';
const said = (h: Handshake) => REASON_TEXT[h.obs.reason] ?? h.obs.reason;
const endpoint = (h: { address: string; port: number; proto: string }) => `${h.address} ${h.proto.toUpperCase()} ${h.port}`;

const service: Rule = {
  id: 'vpn-service',
  family: 'vpn',
  question: 'whether the VPN server answers on its host',
  needs: ['vpn', 'hosts'],
  produces: ['vpn-service-down', 'vpn-unknown'],
  match(ctx) {
    const host = vpnHostOf(ctx);
    const port = ctx.config.vpn.port;
    const all = handshakes(ctx).filter((h) => h.target !== 'public' && h.target !== 'nat-loopback' && h.port === port);
    if (all.length === 0) return [];
    const where = host ? ctx.whereIs(host) : undefined;
    const gone = where?.state === 'moved' || where?.state === 'missing';
    // Where the service should be found now: its address, or where the hosts probe found it.
    const here = all.filter((h) => (host && !gone ? h.address === host.ip : h.target === 'found' || (where?.actual !== undefined && h.address === where.actual)));
    const relevant = host ? here : all.filter((h) => h.target === 'expected');
    // A reply under another key is a VPN that runs (vpn-wrong-key says so), not one that is down or unknown.
    if (relevant.length === 0 || relevant.some(reached)) return [];
    const w = kindWords(ctx.config);
    const name = host?.name ?? ctx.config.vpn.host ?? relevant[0].address;
    const evidence = [...relevant.map((h) => h.obs.id), ...(where?.obs ? [where.obs.id] : [])];
    const failed = relevant.filter((h) => h.obs.status === 'fail');
    if (failed.length === 0) {
      const silent = relevant.filter((h) => h.obs.status === 'error');
      if (silent.length === 0) return [];
      const signed = silent.some((h) => h.signed);
      return [{
        id: 'vpn-unknown',
        labels: { host: name },
        severity: 'unknown',
        title: `Whether the ${w.name} VPN on ${name} runs is unknown: ${endpoint(silent[0])} stays silent${signed ? ' even to netdoctor\'s key' : w.name === 'WireGuard' ? ' (WireGuard answers only known peers)' : ' (tls-auth or tls-crypt?)'}`,
        explanation:
          `${name} is on the network, but a ${w.name} handshake to ${endpoint(silent[0])} got no answer at all. ` +
          (signed
            ? `netdoctor used the key in its config, so either that key differs from the server's, or the server hung; a stopped server would refuse instead.`
            : w.name === 'WireGuard'
              ? 'WireGuard stays silent to every peer it does not know, exactly like this; a stopped server would refuse instead. netdoctor cannot tell which until the server lists it as a peer.'
              : 'A server with tls-auth or tls-crypt drops every packet not protected with its key, exactly like this; a stopped server would normally refuse instead. netdoctor cannot tell which without the key.'),
        impact: 'Unknown whether the VPN accepts connections.',
        evidence,
        fixes: [keyFix(ctx.config, host, signed), restartVpnFix(ctx.config, host, name)],
      }];
    }
    const h = failed[0];
    const atNew = gone && where?.actual !== undefined;
    return [{
      id: 'vpn-service-down',
      labels: { host: name },
      severity: 'critical',
      title: `The ${w.name} VPN on ${name} does not answer: ${endpoint(h)} ${h.obs.reason === 'refused' ? 'refuses the handshake' : 'has no host behind it'}`,
      explanation:
        `netdoctor sent a ${w.name} handshake (the first packet of any connection) to ${endpoint(h)}${atNew ? `, where ${name} is now` : host ? `, ${name}'s address` : ''}: ${said(h)}. ` +
        (h.obs.reason === 'refused'
          ? `${name} is up, but no ${w.name} server listens on ${h.proto.toUpperCase()} ${h.port}: it stopped, failed to start, or listens on another port.`
          : where?.state === 'at-expected'
            ? `The hosts probe found ${name} at ${h.address}, yet the handshake found no host there: it may be dropping off the network.`
            : `Where ${name} is now was not checked (no hosts probe), so it is down, unplugged, or moved.`),
      impact: 'Nobody can connect to the VPN, from outside or inside; outside servers lose what they reach through it.',
      consequence: `the VPN on ${name} stopped answering`,
      evidence,
      fixes: [
        restartVpnFix(ctx.config, host, name),
        {
          title: `Check what listens on ${h.proto.toUpperCase()} ${h.port} on ${name}`,
          steps: [
            `On ${name}: sudo ss -l${h.proto === 'tcp' ? 't' : 'u'}np 'sport = :${h.port}' shows the ${w.name} process when it listens${w.name === 'WireGuard' ? ' (the kernel module shows no process; sudo wg show lists its listening port)' : ''}.`,
            `If it listens on another port, make the router's forward and vpn.port in netdoctor.yaml match it.`,
          ],
        },
      ],
    }];
  },
};

const forward: Rule = {
  id: 'vpn-forward',
  family: 'vpn',
  question: 'whether the router\'s port forward leads to the VPN host',
  needs: ['vpn', 'hosts'],
  produces: ['vpn-forward-stale'],
  match(ctx) {
    const { config } = ctx;
    const host = vpnHostOf(ctx);
    const all = handshakes(ctx);
    const forwards = config.router.forwards
      .filter((f) => f.proto === config.vpn.proto && (f.toPort ?? f.port) === config.vpn.port)
      .map((f) => ({ proto: f.proto as string, port: f.port, to: f.to, toPort: f.toPort ?? f.port }));
    for (const h of all) {
      if (h.target === 'forward' && !forwards.some((f) => f.to === h.address)) forwards.push({ proto: h.proto, port: h.port, to: h.address, toPort: h.port });
    }
    const where = host ? ctx.whereIs(host) : undefined;
    const out: FindingDraft[] = [];
    for (const f of forwards) {
      const seen = all.filter((h) => h.address === f.to && h.port === f.toPort && h.target !== 'public' && h.target !== 'nat-loopback');
      if (seen.some(reached)) continue;
      const atFwd = seen.find((h) => h.target === 'forward') ?? seen[0];
      const found = all.find((h) => h.target === 'found' && reached(h));
      let actual: string | undefined;
      if (!host) {
        if (!atFwd || atFwd.obs.status === 'ok') continue;
      } else if (f.to === host.ip) {
        if (where?.state === 'moved') actual = where.actual;
        else if (where?.state !== 'missing') continue; // the host is there: a failure is the service's (vpn-service-down)
      } else {
        actual = where?.state === 'moved' ? where.actual : host.ip;
        if (where?.state === 'missing') actual = undefined;
      }
      const name = host?.name ?? 'the VPN host';
      const P = f.proto.toUpperCase();
      const linkLocal = actual !== undefined && isLinkLocal(actual);
      const fixes: Fix[] = [];
      if (host) fixes.push(...staticAddressFixes(host, ctx.net, isUsable(actual) ? actual : undefined).slice(0, 1));
      if (isUsable(actual)) fixes.push(routerForwardFix(config, f, actual, host));
      if (host && f.to !== host.ip) fixes.unshift(routerForwardFix(config, f, host.ip, host));
      if (fixes.length === 0) {
        fixes.push({
          title: `Find the VPN host and point the forward at it`,
          steps: [`Find the machine that runs ${kindWords(config).name}, then change the router's forward of ${P} ${f.port} from ${f.to} to its address.`],
        });
      }
      out.push({
        id: 'vpn-forward-stale',
        labels: { port: String(f.port), to: f.to, ...(actual ? { actual } : {}) },
        severity: 'critical',
        title: actual
          ? linkLocal
            ? `Port forward ${P} ${f.port} points at ${f.to}, but ${name} is on the link-local ${actual}, out of the router's reach`
            : `Port forward ${P} ${f.port} still points at ${f.to}, but ${name} is at ${actual}`
          : `Port forward ${P} ${f.port} points at ${f.to}, where ${name} no longer is`,
        explanation:
          `The router forwards ${P} ${f.port} from the internet to ${f.to} (router.forwards). ` +
          (actual
            ? `${name} is at ${actual}${found && found.address === actual ? ' and its VPN answers there' : ''}; `
            : `${name} was not found on the LAN; `) +
          `at ${f.to} ${atFwd ? `the handshake got ${said(atFwd)}` : 'nothing was checked'}. Connections from outside are sent to an address with no VPN behind it.`,
        impact: 'Outside servers cannot connect to the VPN, nor reach anything behind it.',
        consequence: `the router's port forward ${P} ${f.port} still sends VPN traffic to ${f.to}, where nothing answers`,
        evidence: [...seen.map((h) => h.obs.id), ...(found ? [found.obs.id] : []), ...(where?.obs ? [where.obs.id] : [])],
        fixes,
      });
    }
    return out;
  },
};

const outside: Rule = {
  id: 'vpn-outside',
  family: 'vpn',
  question: 'whether the VPN is reachable from outside by its public name',
  needs: ['vpn'],
  produces: ['vpn-unreachable', 'vpn-unknown'],
  match(ctx) {
    const resolve = ctx.first('vpn', 'resolve');
    const pub = handshakes(ctx).filter((h) => h.target === 'public');
    if (!resolve && pub.length === 0) return [];
    if (pub.some(reached)) return [];
    const w = kindWords(ctx.config);
    const rd = dataOf<VpnResolveData>(resolve);
    const name = ctx.config.vpn.publicName ?? resolve?.labels.name ?? rd.name ?? resolve?.subject ?? pub[0].address;
    const addresses = listOf(rd.addresses);
    const evidence = [...(resolve ? [resolve.id] : []), ...pub.map((h) => h.obs.id)];
    const resolveFailed = resolve?.status === 'fail';
    const failed = pub.filter((h) => h.obs.status === 'fail');
    const checkInside: Fix = {
      title: 'Run netdoctor inside the LAN to see which link broke',
      steps: [
        `On a machine at home: sudo netdoctor check — it checks the DDNS record, the ISP's NAT, the router's forward and ${ctx.config.vpn.host ?? 'the VPN host'} one by one.`,
        `From here, compare the name with home's address: dig +short ${name} should print the router's public (WAN) address shown on its status page.`,
      ],
    };
    if (!resolveFailed && failed.length === 0) {
      const silent = pub.filter((h) => h.obs.status === 'error');
      if (silent.length === 0) return [];
      return [{
        id: 'vpn-unknown',
        labels: { name },
        severity: 'unknown',
        title: `Whether the ${w.name} VPN answers at ${name} is unknown: ${endpoint(silent[0])} stays silent${w.name === 'WireGuard' ? ' (WireGuard answers only known peers)' : ' (tls-auth or tls-crypt?)'}`,
        explanation: `From outside, a ${w.name} handshake to ${name} (${endpoint(silent[0])}) got no answer. A server that does not accept netdoctor's key stays silent exactly like this, but so does a forward leading nowhere behind a router that drops instead of refusing.`,
        impact: 'Unknown whether outside servers can connect to the VPN.',
        evidence,
        fixes: [keyFix(ctx.config, vpnHostOf(ctx), silent.some((h) => h.signed)), checkInside],
      }];
    }
    const h = failed[0];
    return [{
      id: 'vpn-unreachable',
      labels: { name },
      severity: 'critical',
      title: resolveFailed
        ? `VPN unreachable from outside: ${name} does not resolve (${resolve!.reason})`
        : `VPN unreachable from outside: ${name} ${h.proto.toUpperCase()} ${h.port} at ${h.address} does not answer`,
      explanation:
        (resolveFailed
          ? `From this vantage, ${name} did not resolve (${resolve!.summary}), so outside servers cannot even find home. `
          : `From this vantage, ${name} resolves to ${addresses.length ? addresses.join(', ') : h.address}, and a ${w.name} handshake to ${endpoint(h)} got ${said(h)}. `) +
        'Between an outside server and the VPN stand the DDNS record, the ISP (carrier-grade NAT), the router\'s port forward and the VPN service; from outside, netdoctor cannot see which of them broke.',
      impact: 'Outside servers cannot connect to the VPN, nor reach anything behind it.',
      consequence: `the VPN became unreachable from outside at ${name}`,
      evidence,
      fixes: [checkInside],
    }];
  },
};

export const vpnRules: Rule[] = [service, forward, outside, wrongKey];

export const vpnEdges: ExplainEdge[] = [
  { cause: 'vpn-service-down', effect: 'vpn-unreachable', because: 'a VPN that does not answer at home does not answer from outside either' },
  { cause: 'vpn-forward-stale', effect: 'vpn-unreachable', because: 'the router sends outside VPN traffic to an address with no VPN behind it' },
];
