/**
 * Addressing: is each inventory host where everything else expects it? In the
 * seed the Pis came back on other addresses, and the router's DNS setting and
 * port forward kept pointing at the old ones.
 */
import { isLinkLocal } from '../../shared/ipv4.js';
import {
  routerDnsSettingFix,
  routerForwardFix,
  routerReservationFix,
  staticAddressFixes,
} from '../fixes.js';
import { dataOf, type HostData } from '../observed.js';
import { same, type ExplainEdge, type FindingDraft, type Rule } from '../rule.js';
import type { Fix } from '../types.js';
import { isUsable, listing, usersOf } from '../words.js';

function rolesText(roles: readonly string[] | undefined): string {
  const named: Record<string, string> = { dns: 'DNS server', vpn: 'VPN server', dhcp: 'DHCP server', graphite: 'Graphite server', ddns: 'DDNS updater', web: 'web server' };
  const list = (roles ?? []).map((r) => named[r]).filter(Boolean);
  return list.length ? `the ${listing(list)}` : '';
}

const hostPlacement: Rule = {
  id: 'host-placement',
  family: 'addressing',
  question: 'whether each host in the inventory is at its address',
  needs: ['hosts'],
  produces: ['host-moved', 'host-missing', 'ip-conflict'],
  match(ctx) {
    const { config, net } = ctx;
    const out: FindingDraft[] = [];
    const iface = config.interface ?? 'the LAN';
    for (const host of config.hosts) {
      const where = ctx.whereIs(host);
      const obs = where.obs;
      if (!obs) continue;
      const d = dataOf<HostData>(obs);
      const users = usersOf(config, host.ip);
      const role = rolesText(host.roles ?? d.roles);
      // Seen by its own interfaces: netdoctor runs on it.
      const me = d.self === true ? ', this machine' : '';
      // `who` reads mid-sentence before a verb; `whom` after a preposition.
      const whom = `${host.name} (MAC ${host.mac})${me}${role ? `, ${role}` : ''}`;
      const who = `${whom}${role || me ? ',' : ''}`;
      const relyText = users.length ? ` Everything that points at ${host.ip} — ${listing(users)} — now reaches nothing.` : '';
      const impact = users.length
        ? `Everything that uses ${host.ip} (${host.name}) fails: ${listing(users)}.`
        : `Whatever connects to ${host.name} at ${host.ip} fails.`;

      if (where.state === 'moved' && where.actual && where.actual !== host.ip) {
        const actual = where.actual;
        const linkLocal = isLinkLocal(actual);
        const fixes: Fix[] = [...staticAddressFixes(host, net, linkLocal ? undefined : actual)];
        if (!linkLocal) {
          fixes.push(routerReservationFix(config, host));
          if (config.router.dnsServer === host.ip && host.roles?.includes('dns')) fixes.push(routerDnsSettingFix(config, host.ip, actual, host));
          for (const f of config.router.forwards) if (f.to === host.ip) fixes.push(routerForwardFix(config, f, actual, host));
        }
        out.push({
          id: 'host-moved',
          labels: { host: host.name, expected: host.ip, actual },
          ...(me ? { facts: { self: 'this machine' } } : {}),
          severity: 'critical',
          title: linkLocal
            ? `${host.name}${me ? ' (this machine)' : ''} lost its address: it gave itself ${actual} instead of ${host.ip}`
            : `${host.name}${me ? ' (this machine)' : ''} moved: it is at ${actual}, expected ${host.ip}`,
          explanation: linkLocal
            ? `${who} is on the wire but at ${actual}, a link-local address: a machine gives itself one when it asks for an address and no DHCP server answers. ` +
              `Nothing on ${net.subnet?.cidr ?? 'the LAN'} can reach it there, and it is no longer at ${host.ip}.${relyText}`
            : `${who} now has ${actual} instead of ${host.ip}: it takes its address from DHCP and was given another one — ` +
              `the router no longer reserves ${host.ip} for it, or it was away long enough for the address to go to someone else.${relyText}`,
          impact,
          consequence: linkLocal ? `${host.name} fell back to the link-local address ${actual}` : `${host.name} moved from ${host.ip} to ${actual}`,
          evidence: [obs.id],
          fixes,
        });
      } else if (where.state === 'missing') {
        const onLink = d.onLink === true;
        const v6 = d.linkLocal6;
        out.push({
          id: 'host-missing',
          labels: { host: host.name },
          facts: { expected: host.ip },
          severity: 'critical',
          title: onLink
            ? `${host.name} has no address: it is on the link (IPv6) but not at ${host.ip} nor anywhere in the subnet`
            : `${host.name} is missing: its MAC ${host.mac} was not seen on ${iface}`,
          explanation:
            `netdoctor swept ${net.subnet?.cidr ?? 'the subnet'} and read the neighbour table: no device with ${host.name}'s MAC (${host.mac}) answered, at ${host.ip} or anywhere else. ` +
            (onLink
              ? `Yet it answers on the link over IPv6${v6 ? ` (${v6})` : ''}: it is plugged in and up, but has no address in the subnet — most likely it asked DHCP, got no answer and fell back to a 169.254.x.y link-local address.${relyText}`
              : `${host.name}${role ? `, ${role},` : ''} is off, unplugged, or on an address outside the subnet — a 169.254.x.y link-local address after DHCP failed is invisible to a sweep.${relyText}`),
          impact,
          consequence: onLink
            ? `${host.name} lost its address (still on the link, but not at ${host.ip} nor anywhere in the subnet)`
            : `${host.name} vanished from the LAN (not at ${host.ip}, not seen anywhere else)`,
          evidence: [obs.id],
          fixes: [
            {
              title: `Check that ${host.name} is powered and plugged in`,
              steps: [
                `Look at ${host.name}: power light on, network cable in, link lights lit on both ends.`,
                `If it is up, log in with keyboard and screen and run ip -4 addr show: an address starting 169.254 means it got no answer from DHCP.`,
                'Check: sudo netdoctor check',
              ],
            },
            ...staticAddressFixes(host, net),
          ],
        });
      } else if (where.state === 'conflict') {
        const other = obs.labels.mac && obs.labels.mac !== host.mac ? obs.labels.mac : d.conflictMac;
        const mac = d.conflictMac ?? other ?? 'unknown';
        const device = d.conflictSelf === true ? `this machine (MAC ${mac})` : `another device (${mac})`;
        const elsewhere = isUsable(where.actual) && where.actual !== host.ip ? where.actual : undefined;
        out.push({
          id: 'ip-conflict',
          labels: { ip: host.ip, host: host.name, mac },
          severity: 'critical',
          title: `Address conflict on ${host.ip}: ${device} answers at ${host.name}'s address`,
          explanation:
            `${host.ip} belongs to ${whom}, but ${d.conflictSelf === true ? `this machine, with MAC ${mac}, holds it: the inventory's MAC for ${host.name} is not this machine's, or two machines were given the same address` : `a device with MAC ${mac} answers there`}. ` +
            `Packets for ${host.ip} go to whichever device answered ARP last, so connections to ${host.name} break at random. ` +
            (elsewhere ? `${host.name} itself was found at ${elsewhere}.` : `${host.name} itself was not seen at another address.`),
          impact: `Connections to ${host.ip} reach the wrong device some of the time${users.length ? `: ${listing(users)} break at random` : ''}.`,
          consequence: `another device (${mac}) took ${host.ip}`,
          evidence: [obs.id],
          fixes: [
            {
              title: `Move the device with MAC ${mac} off ${host.ip}`,
              steps: [
                `Find it: the router's list of attached devices, or ip neigh | grep -i ${mac} on this machine, tells its address; its maker is in the first half of the MAC.`,
                `Give it another address: let it use DHCP, or a static address outside the router's DHCP pool and not used by ${listing(config.hosts.map((h) => `${h.name} (${h.ip})`))}.`,
                `Then check ${host.name} answers at ${host.ip}: sudo netdoctor check --only hosts`,
              ],
            },
            ...staticAddressFixes(host, net),
          ],
        });
        if (elsewhere) {
          out.push({
            id: 'host-moved',
            labels: { host: host.name, expected: host.ip, actual: elsewhere },
            severity: 'critical',
            title: `${host.name} moved: it is at ${elsewhere}, expected ${host.ip}`,
            explanation: `${who} now has ${elsewhere} instead of ${host.ip}, and another device uses ${host.ip}.${relyText}`,
            impact,
            consequence: `${host.name} moved from ${host.ip} to ${elsewhere}`,
            evidence: [obs.id],
            fixes: [...staticAddressFixes(host, net, elsewhere), routerReservationFix(config, host)],
          });
        }
      }
    }
    return out;
  },
};

const hostsUnknown: Rule = {
  id: 'hosts-sweep',
  family: 'addressing',
  question: 'where a host that left its address went',
  needs: ['hosts'],
  produces: ['hosts-unknown'],
  match(ctx) {
    const out: FindingDraft[] = [];
    for (const o of ctx.of('hosts')) {
      if (o.status !== 'error') continue;
      const isSweep = o.check === 'sweep';
      const subnet = o.labels.subnet ?? o.subject;
      out.push({
        id: 'hosts-unknown',
        labels: isSweep ? { subnet } : { host: o.labels.host ?? o.subject },
        severity: 'unknown',
        title: isSweep ? `The sweep of ${subnet} could not run: ${o.summary}` : `Where ${o.labels.host ?? o.subject} is could not be checked: ${o.summary}`,
        explanation: isSweep
          ? `Without the sweep, netdoctor cannot find a host that left its address: a moved host may be reported missing. (${o.summary})`
          : `The hosts probe could not judge ${o.labels.host ?? o.subject}: ${o.summary}.`,
        impact: 'A moved host may be reported missing, or not found at all.',
        evidence: [o.id],
        fixes: [{
          title: o.reason === 'too-wide' ? 'Narrow the sweep, or allow it' : 'Tell netdoctor which subnet the LAN is',
          steps: o.reason === 'too-wide'
            ? ['Set subnet: in netdoctor.yaml to the LAN (at most /22), or run netdoctor check --force to sweep it anyway.']
            : ['Set subnet: in netdoctor.yaml (for example 192.168.1.0/24), or make sure the interface has an address.'],
        }],
      });
    }
    return out;
  },
};

export const addressingRules: Rule[] = [hostPlacement, hostsUnknown];

const isVpnHost = (c: FindingDraft, _e: FindingDraft, config: { vpn: { host?: string } }) => c.labels.host === config.vpn.host;

export const addressingEdges: ExplainEdge[] = [
  { cause: 'host-moved', effect: 'dns-server-down', because: 'the DNS server that stopped answering is the moved host\'s expected address', when: same('expected', 'server') },
  { cause: 'host-missing', effect: 'dns-server-down', because: 'the DNS server that stopped answering is the missing host\'s address', when: same('expected', 'server') },
  { cause: 'ip-conflict', effect: 'dns-server-down', because: 'another device answers at the DNS server\'s address', when: same('ip', 'server') },
  { cause: 'ip-conflict', effect: 'dns-server-failing', because: 'another device answers at the DNS server\'s address', when: same('ip', 'server') },
  { cause: 'host-moved', effect: 'dns-wrong-answer', because: 'the name now resolves to where the host moved', when: same('actual', 'actual') },
  { cause: 'host-moved', effect: 'vpn-forward-stale', because: 'the port forward still points at the moved host\'s old address', when: same('expected', 'to') },
  { cause: 'host-missing', effect: 'vpn-forward-stale', because: 'the port forward points at the missing host\'s address', when: same('expected', 'to') },
  { cause: 'ip-conflict', effect: 'vpn-forward-stale', because: 'another device answers at the port forward\'s target', when: same('ip', 'to') },
  { cause: 'ip-conflict', effect: 'vpn-service-down', because: 'the VPN handshake reached the other device at the VPN host\'s address', when: same('host', 'host') },
  { cause: 'host-moved', effect: 'vpn-unreachable', because: 'the VPN host is no longer where the router sends VPN traffic', when: isVpnHost },
  { cause: 'host-missing', effect: 'vpn-unreachable', because: 'the VPN host is gone from the LAN', when: isVpnHost },
  { cause: 'host-moved', effect: 'ip-conflict', because: 'the host left its address and another device was given it', when: same('host', 'host') },
  // Seen from the machine that lost its address: it reaches nothing on the LAN, so everything it asks looks down.
  ...(['gateway-down', 'dns-server-down'] as const).map((effect): ExplainEdge => ({
    cause: 'host-moved',
    effect,
    because: 'this machine itself has only a link-local address, so it reaches nothing in the subnet',
    when: (c) => c.facts?.self !== undefined && c.labels.actual !== undefined && isLinkLocal(c.labels.actual),
  })),
];
