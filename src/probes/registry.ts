/**
 * Every probe, listed once. Order is the order of display (TUI rows, text
 * output), which follows the seed's outage: addresses first, then names, then
 * the paths in from outside.
 */
import { ddnsProbe } from './ddns.js';
import { dhcpProbe } from './dhcp.js';
import { dnsProbe } from './dns.js';
import { hostsProbe } from './hosts.js';
import { routerProbe } from './router.js';
import type { Probe } from './types.js';
import { vpnProbe } from './vpn.js';
import { wanProbe } from './wan.js';

export const probes: readonly Probe[] = [dhcpProbe, hostsProbe, wanProbe, dnsProbe, vpnProbe, ddnsProbe, routerProbe];
