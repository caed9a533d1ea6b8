/**
 * Two or more inventory hosts moved to other LAN addresses in the same run:
 * one common cause — the router lost its DHCP reservations (a reset or a
 * firmware update), so every reserved host took a pool address at once.
 * One host moving alone stays `host-moved` (docs/rules.md).
 */
import { isLinkLocal } from '../../shared/ipv4.js';
import { PI_IFACE, staticAddressFixes } from '../fixes.js';
import type { ExplainEdge, Rule } from '../rule.js';
import type { Fix } from '../types.js';
import { listing } from '../words.js';

const reservationsLost: Rule = {
  id: 'dhcp-reservations',
  family: 'dhcp',
  question: 'whether the router still reserves the addresses of the inventory hosts',
  needs: ['hosts'],
  produces: ['reservations-lost'],
  match(ctx) {
    const { config, net } = ctx;
    const moved = config.hosts
      .map((host) => ({ host, where: ctx.whereIs(host) }))
      .filter(({ host, where }) => where.state === 'moved' && where.actual && where.actual !== host.ip && !isLinkLocal(where.actual));
    if (moved.length < 2) return [];
    const moves = moved.map(({ host, where }) => `${host.name} ${host.ip} → ${where.actual}`);
    const router = config.router.ip ? `The router (${config.router.ip})` : 'The DHCP server';
    const fixes: Fix[] = [{
      title: 'Re-create the reservations in the router, then make the hosts ask again',
      steps: [
        `${router} has probably been reset or updated: its reservation list is empty or shorter. Check it first.`,
        ...moved.map(({ host }) => `Reserve ${host.ip} for ${host.mac} (${host.name}).`),
        `Then on each host re-plug its cable, or run sudo nmcli device reapply ${PI_IFACE}, so it asks again and gets its reserved address.`,
      ],
    }];
    for (const { host } of moved) fixes.push(...staticAddressFixes(host, net).slice(0, 1));
    return [{
      id: 'reservations-lost',
      labels: {},
      facts: { hosts: moved.map(({ host }) => host.name) },
      severity: 'critical',
      title: `The router lost its DHCP reservations: ${listing(moved.map(({ host }) => host.name))} took pool addresses at once`,
      explanation:
        `${moved.length} reserved hosts moved in this run: ${listing(moves)}. ` +
        `${listing(moved.map(({ host, where }) => `${host.name} (MAC ${host.mac}) is at ${where.actual} instead of ${host.ip}`))}. ` +
        `Each takes its address from DHCP; ${moved.length} reserved hosts moving in one run is not each one's own trouble but one cause: ` +
        `${router.toLowerCase().startsWith('the router') ? 'the router' : 'the DHCP server'} no longer reserves their addresses (a reset, a firmware update or a restored backup clears the list), so each was handed the next free pool address when it asked.`,
      impact: `Everything that points at the old addresses (${listing(moved.map(({ host }) => host.ip))}) — the router's DNS setting, port forwards, bookmarks — now reaches nothing.`,
      evidence: moved.flatMap(({ where }) => (where.obs ? [where.obs.id] : [])),
      fixes,
    }];
  },
};

export const reservationsRules: Rule[] = [reservationsLost];

export const reservationsEdges: ExplainEdge[] = [{
  cause: 'reservations-lost',
  effect: 'host-moved',
  because: 'with its reservations gone, the router gives each reserved host the next free pool address',
  when: (c, e) => (c.facts?.hosts ?? []).includes(e.labels.host),
}];
