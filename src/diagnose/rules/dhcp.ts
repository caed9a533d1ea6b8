/**
 * DHCP: is there a server, is it the right one, does it hand out the right
 * things. In the seed's outage the router's DHCP server stopped; everything
 * else followed from that.
 */
import { formatDuration } from '../../shared/duration.js';
import { isLinkLocal, maskToPrefix } from '../../shared/ipv4.js';
import { PI_IFACE, dnsmasqTakeOverFix, dhcpcdStaticFix, nmcliStaticFix, routerDhcpOnFix } from '../fixes.js';
import { dataOf, listOf, type DhcpOfferData, type DhcpSummaryData } from '../observed.js';
import type { ExplainEdge, FindingDraft, Rule, RuleContext } from '../rule.js';
import type { Fix } from '../types.js';
import { ipName, listing } from '../words.js';

function ifaceOf(ctx: RuleContext, labels: Record<string, string>, data: { iface?: string }): string {
  return labels.iface ?? data.iface ?? ctx.config.interface ?? 'lan';
}

const serverMissing: Rule = {
  id: 'dhcp-server',
  family: 'dhcp',
  question: 'whether a DHCP server answers',
  needs: ['dhcp'],
  produces: ['dhcp-server-missing'],
  match(ctx) {
    const summary = ctx.first('dhcp', 'summary');
    if (!summary || summary.status !== 'fail' || summary.reason !== 'no-offer') return [];
    const data = dataOf<DhcpSummaryData>(summary);
    // Silence is a fault only where a server is expected: listed in the config, or this machine's own address came from one.
    const origin = data.addressOrigin;
    if (!ctx.config.dhcp.listed && origin?.origin !== 'dhcp') return [];
    const iface = ifaceOf(ctx, summary.labels, data);
    const windowMs = typeof data.windowMs === 'number' ? data.windowMs : ctx.config.dhcp.windowMs;
    const { config, net } = ctx;
    const expected = config.dhcp.servers;
    const fixes: Fix[] = [routerDhcpOnFix(config)];
    for (const h of config.hosts) fixes.push(nmcliStaticFix(h, net));
    for (const h of config.hosts) fixes.push(dhcpcdStaticFix(h, net));
    const dnsHost = config.hosts.find((h) => h.roles?.includes('dhcp')) ?? config.hosts.find((h) => h.roles?.includes('dns'));
    const takeOver = dnsHost && dnsmasqTakeOverFix(config, dnsHost, net);
    if (takeOver) fixes.push(takeOver);
    return [{
      id: 'dhcp-server-missing',
      labels: { iface },
      severity: 'critical',
      title: `DHCP server missing on ${iface}: nobody answered in ${formatDuration(windowMs, { spaced: true })}`,
      explanation:
        `netdoctor broadcast a DHCP discover on ${iface} (asking for an offer, taking no lease) and waited ${formatDuration(windowMs, { spaced: true })}: no DHCP server answered. ` +
        (config.dhcp.listed
          ? `${listing(expected.map((ip) => (ip === config.router.ip ? `The router (${ip})` : ipName(ctx, ip))))} ${expected.length > 1 ? 'are the DHCP servers' : 'is the DHCP server'} netdoctor expects (dhcp.servers). `
          : `A DHCP server is expected because this machine's own address came from one: ${origin?.evidence ?? 'its address is dynamic'}. `) +
        'Devices keep their address only until their lease runs out; anything that joins, re-plugs or renews now gets no answer and gives itself a 169.254.x.y link-local address that reaches nothing.',
      impact:
        'New devices, and every device that re-plugs or whose lease runs out, cannot get an address: they reach neither the router, nor the internet, nor each other.',
      evidence: [summary.id],
      fixes,
    }];
  },
};

const unexpectedServer: Rule = {
  id: 'dhcp-unexpected',
  family: 'dhcp',
  question: 'whether an unexpected DHCP server answers',
  needs: ['dhcp'],
  produces: ['dhcp-unexpected-server'],
  match(ctx) {
    const offers = [...ctx.of('dhcp', 'offer')].sort((a, b) => (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0));
    const good = offers.find((o) => o.status === 'ok');
    const goodData = dataOf<DhcpOfferData>(good);
    const out: FindingDraft[] = [];
    for (const o of offers) {
      const d = dataOf<DhcpOfferData>(o);
      if (!(o.status === 'fail' && o.reason === 'unexpected-server') && d.expected !== false) continue;
      const server = o.labels.server ?? d.serverId ?? o.subject;
      const iface = ifaceOf(ctx, o.labels, {});
      const routers = listOf(d.router);
      const dns = listOf(d.dns);
      const wanted = { router: ctx.config.router.ip ? [ctx.config.router.ip] : listOf(goodData.router), dns: ctx.config.router.dnsServer ? [ctx.config.router.dnsServer] : listOf(goodData.dns) };
      const differs = (have: string[], want: string[]) => want.length > 0 && (have.length === 0 || have.some((x) => !want.includes(x)));
      const harmful = differs(routers, wanted.router) || differs(dns, wanted.dns);
      const owner = d.sourceMac ? ctx.config.hosts.find((h) => h.mac === d.sourceMac) : undefined;
      const hands = [
        routers.length ? `gateway ${listing(routers)}` : 'no gateway',
        dns.length ? `DNS ${listing(dns)}` : 'no DNS server',
      ].join(' and ');
      const offerMs = typeof d.offerMs === 'number' ? d.offerMs : o.values.offer_ms;
      const goodMs = typeof goodData.offerMs === 'number' ? goodData.offerMs : good?.values.offer_ms;
      const faster = offerMs !== undefined && goodMs !== undefined && offerMs < goodMs;
      const fixes: Fix[] = [{
        title: `Find the device at ${server}${d.sourceMac ? ` (MAC ${d.sourceMac})` : ''} and switch its DHCP server off`,
        steps: [
          owner
            ? `Its MAC is ${owner.name}'s: ${owner.name} runs a DHCP server (dnsmasq with a dhcp-range, or Pi-hole's DHCP).`
            : `Look for it: ip neigh show ${server} on this machine gives its MAC; the router's list of attached devices may name it. Usual suspects: a second router or access point, a travel router, a Pi running dnsmasq or Pi-hole.`,
          'Switch its DHCP server off (on a second router: set it to access-point or bridge mode), or unplug it until you can.',
          'Devices that took its offer keep it until they renew: re-plug them, or wait for the lease to run out.',
        ],
      }, {
        title: `If ${owner ? owner.name : 'it'} runs dnsmasq: stop it serving DHCP on the LAN`,
        steps: [
          `On ${owner ? owner.name : 'that machine'}, remove or comment out the dhcp-range lines in /etc/dnsmasq.conf and /etc/dnsmasq.d/, or add the file below.`,
          `If its LAN interface is not ${PI_IFACE} (ip -br link lists them), use that name in the file.`,
          'Then run: sudo systemctl restart dnsmasq',
        ],
        snippet: { file: '/etc/dnsmasq.d/no-dhcp.conf', language: 'conf', text: `no-dhcp-interface=${PI_IFACE}` },
      }];
      out.push({
        id: 'dhcp-unexpected-server',
        labels: { server },
        facts: { offeredDns: dns },
        severity: harmful ? 'critical' : 'warning',
        title: `Unexpected DHCP server ${server} on ${iface}: it hands out ${hands}`,
        explanation:
          `Besides ${ctx.config.dhcp.servers.length ? listing(ctx.config.dhcp.servers.map((ip) => (ip === ctx.config.router.ip ? `the router (${ip})` : ip))) : 'the expected server'}, ${server}${d.sourceMac ? ` (MAC ${d.sourceMac}${owner ? `, which is ${owner.name}` : ''})` : ''} answered netdoctor's DHCP discover` +
          `${offerMs !== undefined ? ` in ${formatDuration(offerMs, { spaced: true })}` : ''}, offering ${d.offeredIp ?? 'an address'} with ${hands}` +
          (harmful
            ? `, where devices should get ${[wanted.router.length ? `gateway ${listing(wanted.router)}` : '', wanted.dns.length ? `DNS ${listing(wanted.dns)}` : ''].filter(Boolean).join(' and ')}. `
            : '. ') +
          `Devices take whichever offer arrives first${faster ? `, and it answers faster than ${good ? good.labels.server ?? 'the expected server' : 'the expected server'} (${formatDuration(offerMs!, { spaced: true })} against ${formatDuration(goodMs!, { spaced: true })}), so most will take its offer` : ''}; ` +
          (harmful
            ? 'those that do end up behind the wrong gateway and DNS server, at random and differently after each renewal.'
            : 'it hands out the same gateway and DNS, but two servers lease from the same addresses and can give one address to two devices.'),
        impact: harmful
          ? `Devices that take its offer use ${hands}: they may lose the internet and local names, depending on which server answered first.`
          : 'Two DHCP servers can hand one address to two devices, which then cut each other off at random.',
        evidence: [o.id],
        fixes,
      });
    }
    return out;
  },
};

const badOptions: Rule = {
  id: 'dhcp-options',
  family: 'dhcp',
  question: 'whether the DHCP offers carry the right gateway, DNS server and netmask',
  needs: ['dhcp'],
  produces: ['dhcp-bad-options'],
  match(ctx) {
    const { config } = ctx;
    const out: FindingDraft[] = [];
    for (const o of [...ctx.of('dhcp', 'offer')].sort((a, b) => (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0))) {
      if (o.status !== 'ok') continue;
      const d = dataOf<DhcpOfferData>(o);
      const server = o.labels.server ?? d.serverId ?? o.subject;
      const routers = listOf(d.router);
      const dns = listOf(d.dns);
      const page = config.router.ip ? `the router's admin page (http://${config.router.ip}/)` : "the DHCP server's settings";
      const base = { severity: 'critical' as const, evidence: [o.id] };
      if (config.router.ip && !routers.includes(config.router.ip)) {
        const has = routers.length ? `gateway ${listing(routers)}` : 'no gateway';
        out.push({
          ...base,
          id: 'dhcp-bad-options',
          labels: { server, option: 'router' },
          title: `DHCP server ${server} hands out ${has}, not the router ${config.router.ip}`,
          explanation: `The offer from ${server} names ${has} as the way out, but the router is ${config.router.ip} (router.ip). Devices that take it send everything beyond the LAN to ${routers.length ? 'the wrong place' : 'nowhere'}.`,
          impact: 'Devices that got their address from it cannot reach the internet.',
          fixes: [{
            title: `Set the gateway handed out by ${server} to ${config.router.ip}`,
            steps: [`In ${page}, LAN or DHCP settings, set the gateway (router) option to ${config.router.ip}.`, 'Devices pick it up when they renew their lease; reconnect them to hurry it.'],
          }],
        });
      }
      const wantDns = config.router.dnsServer;
      if (wantDns && !dns.includes(wantDns)) {
        const has = dns.length ? `DNS ${listing(dns)}` : 'no DNS server';
        out.push({
          ...base,
          id: 'dhcp-bad-options',
          labels: { server, option: 'dns' },
          facts: { offeredDns: dns },
          title: `DHCP server ${server} hands out ${has}, not ${ipName(ctx, wantDns)}`,
          explanation: `Devices use the DNS server their DHCP offer names. The offer from ${server} names ${has}, but the DNS server should be ${ipName(ctx, wantDns)} (router.dnsServer), so devices ask ${dns.length ? 'the wrong server' : 'nobody'} for names.`,
          impact: `Devices that got their address from ${server} do not use ${wantDns} for names: local names such as ${Object.keys(config.dns.records)[0] ?? 'those of your Pis'} fail for them.`,
          consequence: `DHCP tells devices to use ${has} instead of ${wantDns}`,
          fixes: [{
            title: `Set the DNS server handed out by ${server} to ${wantDns}`,
            steps: [`In ${page}, LAN or DHCP settings, set the DNS server to ${wantDns}.`, 'Devices pick it up when they renew their lease; reconnect them to hurry it.'],
          }],
        });
      }
      const prefix = d.subnetMask ? maskToPrefix(d.subnetMask) : undefined;
      if (config.subnet && d.subnetMask && prefix !== config.subnet.prefix) {
        out.push({
          ...base,
          severity: 'warning',
          id: 'dhcp-bad-options',
          labels: { server, option: 'subnet-mask' },
          title: `DHCP server ${server} hands out netmask ${d.subnetMask}, but the LAN is ${config.subnet.cidr}`,
          explanation: `The offer from ${server} gives netmask ${d.subnetMask}${prefix !== undefined ? ` (/${prefix})` : ''}; netdoctor.yaml says the LAN is ${config.subnet.cidr}. Devices with the wrong mask send some local traffic to the router, or cannot reach part of the LAN.`,
          impact: 'Some devices on the LAN cannot reach each other directly.',
          fixes: [{
            title: `Check the LAN netmask on ${server}`,
            steps: [`In ${page}, check the LAN netmask; for ${config.subnet.cidr} it is the /${config.subnet.prefix} mask. If the DHCP server is right, correct subnet: in netdoctor.yaml instead.`],
          }],
        });
      }
    }
    return out;
  },
};

export const dhcpRules: Rule[] = [serverMissing, unexpectedServer, badOptions];

export const dhcpEdges: ExplainEdge[] = [
  {
    cause: 'dhcp-server-missing',
    effect: 'host-moved',
    because: 'a host that asks for an address and gets no answer gives itself a 169.254.x.y link-local address',
    when: (_c, e) => e.labels.actual !== undefined && isLinkLocal(e.labels.actual),
  },
  {
    cause: 'dhcp-server-missing',
    effect: 'host-missing',
    because: 'a host without an address from DHCP falls to link-local, where a sweep of the subnet cannot see it',
  },
  // A server that is down and one that answers but resolves nothing are asked for the same reason.
  ...(['dns-server-down', 'dns-server-failing'] as const).map((effect): ExplainEdge => ({
    cause: 'dhcp-unexpected-server',
    effect,
    because: 'the unexpected server hands out its own DNS server; devices (and netdoctor) ask it because of that offer',
    when: (c, e, config) => (c.facts?.offeredDns ?? []).includes(e.labels.server) && e.labels.server !== config.router.dnsServer && !config.dns.servers.includes(e.labels.server),
  })),
  ...(['dns-server-down', 'dns-server-failing'] as const).map((effect): ExplainEdge => ({
    cause: 'dhcp-bad-options',
    effect,
    because: 'devices ask the DNS server their DHCP offer names; a wrong one handed out is the reason that server gets asked',
    when: (c, e, config) => c.labels.option === 'dns' && (c.facts?.offeredDns ?? []).includes(e.labels.server) && e.labels.server !== config.router.dnsServer,
  })),
];
