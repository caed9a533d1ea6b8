/**
 * The named faults, and the one function that says what the lab looks like
 * under a list of them. Faults compose: the lab reconciles the running world
 * towards `worldFor(faults)`, so `heal` is just "reconcile towards no faults".
 */
import { UsageError } from '../shared/errors.js';
import { didYouMean } from '../shared/suggest.js';

export const FAULTS = {
  'unplugged-pi': "the seed's outage: the router's DHCP stops; both Pis re-plug and, without a lease, fall back to 169.254/16 link-local",
  'reservations-lost': 'the router answers DHCP again but without the reservations (lease file cleared); the Pis re-plug and take pool addresses',
  'dns-down': "pi-dns's dnsmasq stops; the Pi itself stays up",
  'vpn-down': "both OpenVPN servers on pi-vpn stop; the Pi itself stays up",
  'ddns-stale': "the router's WAN address changes to 203.0.113.11; the DDNS record still says 203.0.113.10",
  'isp-down': "the WAN link goes down (router's wan0)",
  'rogue-dhcp': 'a second DHCP server (192.168.1.254) appears on the LAN, handing out its own gateway and DNS',
  cgnat: "the router's WAN gets 100.64.0.10/10 behind a carrier-grade NAT (public 203.0.113.99); the forward no longer reaches home",
  'upnp-off': "the router's UPnP IGD and NAT-PMP/PCP are switched off (miniupnpd stops)",
} as const;

export type FaultName = keyof typeof FAULTS;
export const FAULT_NAMES = Object.keys(FAULTS) as FaultName[];

export function isFaultName(name: string): name is FaultName {
  return Object.hasOwn(FAULTS, name);
}

export function checkFaultNames(names: readonly string[]): FaultName[] {
  for (const n of names) {
    if (!isFaultName(n)) {
      throw new UsageError(`${JSON.stringify(n)} is not a lab fault${didYouMean(n, FAULT_NAMES)}; faults are: ${FAULT_NAMES.join(', ')}`);
    }
  }
  return names as FaultName[];
}

export type RouterDhcp = 'healthy' | 'off' | 'no-reservations';
export type WanMode = 'normal' | 'moved' | 'cgnat';

/** Everything about the lab that faults change. */
export interface World {
  routerDhcp: RouterDhcp;
  dnsServer: boolean;
  vpnServers: boolean;
  wan: WanMode;
  wanUp: boolean;
  rogue: boolean;
  /** miniupnpd runs on the router. */
  upnp: boolean;
}

export const HEALTHY: World = { routerDhcp: 'healthy', dnsServer: true, vpnServers: true, wan: 'normal', wanUp: true, rogue: false, upnp: true };

/**
 * unplugged-pi and reservations-lost both decide the router's DHCP; the one
 * applied last wins, which is how the seed's outage went (DHCP stopped, then
 * came back without its reservations). cgnat decides the WAN address over
 * ddns-stale: behind a carrier NAT the router has no public address to move.
 */
export function worldFor(faults: readonly FaultName[]): World {
  const w: World = { ...HEALTHY };
  for (const f of faults) {
    switch (f) {
      case 'unplugged-pi': w.routerDhcp = 'off'; break;
      case 'reservations-lost': w.routerDhcp = 'no-reservations'; break;
      case 'dns-down': w.dnsServer = false; break;
      case 'vpn-down': w.vpnServers = false; break;
      case 'ddns-stale': if (w.wan !== 'cgnat') w.wan = 'moved'; break;
      case 'isp-down': w.wanUp = false; break;
      case 'rogue-dhcp': w.rogue = true; break;
      case 'cgnat': w.wan = 'cgnat'; break;
      case 'upnp-off': w.upnp = false; break;
    }
  }
  return w;
}

/** The active list after applying `names`: a fault applied again moves to the end (it is the latest event). */
export function addFaults(active: readonly FaultName[], names: readonly FaultName[]): FaultName[] {
  const out = [...active];
  for (const n of names) {
    const i = out.indexOf(n);
    if (i >= 0) out.splice(i, 1);
    out.push(n);
  }
  return out;
}
