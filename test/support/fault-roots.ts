/** Each lab fault, the root findings the lab's truth calls for, and check's exit code: from the client and from the Pis alike. */
import { expect } from 'vitest';

export const FAULT_ROOTS: Array<{ fault: string; code: number; roots: (keys: string[]) => void }> = [
  { fault: 'unplugged-pi', code: 2, roots: (k) => expect(k).toEqual(['dhcp-server-missing{iface=eth0}']) },
  // One root for the common cause (issue 21, item 7), not one per moved Pi.
  { fault: 'reservations-lost', code: 2, roots: (k) => expect(k).toEqual(['reservations-lost{}']) },
  { fault: 'dns-down', code: 2, roots: (k) => expect(k).toEqual(['dns-server-down{server=192.168.1.10}']) },
  { fault: 'vpn-down', code: 2, roots: (k) => expect(k).toEqual(['vpn-service-down{host=pi-vpn}']) },
  { fault: 'ddns-stale', code: 1, roots: (k) => expect(k).toEqual(['ddns-stale{actual=203.0.113.11,hostname=home.dyn.example.net,published=203.0.113.10}']) },
  // Since the router probe: the router itself says over UPnP that its WAN link is down, and that explains wan-down.
  { fault: 'isp-down', code: 2, roots: (k) => expect(k).toEqual(['router-wan-down{}']) },
  { fault: 'rogue-dhcp', code: 2, roots: (k) => expect(k).toEqual(['dhcp-unexpected-server{server=192.168.1.254}']) },
  { fault: 'cgnat', code: 2, roots: (k) => expect(k).toEqual(['cgnat{}']) },
];
