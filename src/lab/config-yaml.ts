/**
 * The netdoctor.yaml that describes the lab, for a run inside `client`
 * (`netdoctor lab config`). Text rather than a serialised object so that it
 * carries comments that explain the lab to someone reading it.
 */
import { join } from 'node:path';
import { DDNS, DHCP_CLIENTS, LAN, VPN, WAN } from './topology.js';

export function labConfigYaml(stateDir: string): string {
  const pi = DHCP_CLIENTS;
  return `# netdoctor.yaml for the lab (netdoctor lab config): run it inside the client node,
#   sudo netdoctor lab exec [--prefix NAME] client -- netdoctor check --config <this file>
site: lab
interface: eth0
subnet: ${LAN.cidr}
hosts:
  - { name: pi-dns, mac: "${pi['pi-dns'].mac}", ip: ${pi['pi-dns'].ip}, roles: [dns] }
  - { name: pi-vpn, mac: "${pi['pi-vpn'].mac}", ip: ${pi['pi-vpn'].ip}, roles: [vpn] }
router:
  ip: ${LAN.router}
  wanIp: ${WAN.routerIp}
  dnsServer: ${pi['pi-dns'].ip}
  forwards: [{ proto: udp, port: ${VPN.port}, to: ${pi['pi-vpn'].ip} }]
dhcp:
  servers: [${LAN.router}]
  window: 6s                 # dnsmasq pings an address before its first offer (3-4 s)
dns:
  servers: [${pi['pi-dns'].ip}]
  records:
    pi-vpn.home: ${pi['pi-vpn'].ip}
    pi-dns.home: ${pi['pi-dns'].ip}
  external: [example.com]
wan:
  targets: [${WAN.ispIp}, ${WAN.resolver}]   # the lab's "internet"
ddns:
  hostname: ${DDNS.hostname}
  resolvers: [${WAN.resolver}]
  publicIp: [http://${WAN.ispIp}/]
vpn: { host: pi-vpn, proto: udp, port: ${VPN.port}, publicName: ${DDNS.hostname} }
history:
  path: ${join(stateDir, 'history.db')}   # inside the lab's state dir: \`lab down\` deletes it; copy it out first to keep it
`;
}
