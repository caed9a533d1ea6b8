/**
 * The configuration of every real server in the lab, as text files written
 * into the lab's state dir (so a user can read exactly what runs), and the
 * command lines that start them in the foreground.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { must } from './sys.js';
import {
  DDNS, DHCP_CLIENTS, EXTERNAL_NAMES, LAN, LOCAL_NAMES, ROGUE, VPN, WAN, linkLocalFor, type DhcpClientNode,
} from './topology.js';

/** Every dnsmasq here reads only its own file: never /etc/dnsmasq.conf, never /etc/hosts or /etc/resolv.conf. */
function dnsmasqCommon(stateDir: string, name: string): string[] {
  return [
    `pid-file=${join(stateDir, `${name}.pid`)}`,
    // Stay root: the lease file lives in the root-owned state dir, and the lab is throwaway anyway.
    'user=root',
    'group=root',
    'log-facility=-',
  ];
}

export function routerDhcpConf(stateDir: string, opts: { reservations: boolean }): string {
  return [
    '# Router DHCP (DHCP only: port=0 turns DNS off). Written by `netdoctor lab`.',
    ...dnsmasqCommon(stateDir, 'router-dnsmasq'),
    'port=0',
    `interface=${LAN.bridge}`,
    'bind-interfaces',
    // A home router is the only DHCP server of its LAN: answer renewals of leases it has forgotten.
    'dhcp-authoritative',
    `dhcp-range=${LAN.poolStart},${LAN.poolEnd},255.255.255.0,${LAN.leaseTime}`,
    `dhcp-option=option:router,${LAN.router}`,
    `dhcp-option=option:dns-server,${DHCP_CLIENTS['pi-dns'].ip}`,
    `domain=${LAN.domain}`,
    `dhcp-leasefile=${routerLeaseFile(stateDir)}`,
    'log-dhcp',
    ...(opts.reservations
      ? Object.entries(DHCP_CLIENTS).map(([node, c]) => `dhcp-host=${c.mac},${c.ip},${node}`)
      : ['# reservations-lost: the dhcp-host reservations are gone']),
    '',
  ].join('\n');
}

export const routerLeaseFile = (stateDir: string) => join(stateDir, 'router.leases');

export function rogueDhcpConf(stateDir: string): string {
  return [
    '# rogue-dhcp: a second DHCP server on the LAN with its own gateway and DNS. Written by `netdoctor lab`.',
    ...dnsmasqCommon(stateDir, 'rogue-dnsmasq'),
    'port=0',
    'interface=eth0',
    'bind-interfaces',
    `dhcp-range=${ROGUE.poolStart},${ROGUE.poolEnd},255.255.255.0,1h`,
    `dhcp-option=option:router,${ROGUE.ip}`,
    `dhcp-option=option:dns-server,${ROGUE.ip}`,
    `dhcp-leasefile=${join(stateDir, 'rogue.leases')}`,
    'log-dhcp',
    '',
  ].join('\n');
}

export function piDnsConf(stateDir: string): string {
  return [
    '# pi-dns: DNS only (no DHCP), local names, upstream the ISP resolver. Written by `netdoctor lab`.',
    ...dnsmasqCommon(stateDir, 'pi-dns-dnsmasq'),
    // No bind-interfaces: dnsmasq listens on the wildcard address and keeps
    // answering when DHCP moves the Pi to another address (reservations-lost).
    'interface=eth0',
    'no-resolv',
    'no-hosts',
    `server=${WAN.resolver}`,
    `domain=${LAN.domain}`,
    `local=/${LAN.domain}/`,
    'bogus-priv',
    ...Object.entries(LOCAL_NAMES).map(([name, ip]) => `host-record=${name},${ip}`),
    '',
  ].join('\n');
}

export function ispResolverConf(stateDir: string): string {
  return [
    '# The public resolver of the lab internet, also the authoritative server of the DDNS zone. Written by `netdoctor lab`.',
    ...dnsmasqCommon(stateDir, 'isp-dnsmasq'),
    `listen-address=${WAN.resolver}`,
    'bind-interfaces',
    'no-resolv',
    'no-hosts',
    // Everything not listed is NXDOMAIN: there is no internet behind the lab.
    'local=/#/',
    ...Object.entries(EXTERNAL_NAMES).map(([name, ip]) => `host-record=${name},${ip}`),
    // The DDNS record. ddns-stale leaves it alone on purpose: that is the fault.
    `host-record=${DDNS.hostname},${WAN.routerIp}`,
    `host-record=${DDNS.ns},${WAN.resolver}`,
    // NS for the DDNS zone, so the name's authoritative server can be found. Not dnsmasq's auth mode:
    // on an auth-server address it refuses every name outside its zones (example.com).
    `dns-rr=${DDNS.zone},2,${wireName(DDNS.ns)}`,
    '',
  ].join('\n');
}

/** A domain name in DNS wire format, as hex (for dnsmasq's dns-rr). */
export function wireName(name: string): string {
  const labels = name.replace(/\.$/, '').split('.');
  return [...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')]).toString('hex')), '00'].join('');
}

/**
 * udhcpc's event script. For every DHCP client: take the lease's address,
 * prefix and default route; without a lease fall back to a link-local
 * address derived from the MAC, as dhcpcd does on a Raspberry Pi. Only the
 * client also writes its resolv.conf (netdoctor reads it there); the Pis
 * take nothing else from DHCP.
 */
export function udhcpcScript(node: DhcpClientNode, resolvConf: string | undefined): string {
  const ll = linkLocalFor(DHCP_CLIENTS[node].mac);
  return `#!/bin/sh
# udhcpc event script of ${node}, written by \`netdoctor lab\`.
dev="$interface"
has_global() { [ -n "$(ip -4 -o addr show dev "$dev" scope global)" ]; }
case "$1" in
  deconfig)
    ip -4 addr flush dev "$dev"
    ip link set "$dev" up
    ;;
  leasefail|nak)
    # No DHCP server answered: IPv4 link-local, like dhcpcd's IPv4LL fallback.
    if ! has_global; then ip addr replace ${ll}/16 dev "$dev" scope link; fi
    ;;
  bound|renew)
    if [ -z "$(ip -4 -o addr show dev "$dev" to "$ip/32")" ]; then
      ip -4 addr flush dev "$dev"
      ip addr add "$ip/\${mask:-24}" broadcast + dev "$dev"
    fi
    for gw in $router; do ip route replace default via "$gw" dev "$dev"; break; done
${resolvConf ? `    : > ${resolvConf}.new
    [ -n "$domain" ] && echo "search $domain" >> ${resolvConf}.new
    for ns in $dns; do echo "nameserver $ns" >> ${resolvConf}.new; done
    cat ${resolvConf}.new > ${resolvConf}
    rm -f ${resolvConf}.new
` : ''}    ;;
esac
exit 0
`;
}

export function writeExecutable(path: string, text: string): void {
  writeFileSync(path, text);
  chmodSync(path, 0o755);
}

/** busybox udhcpc in the foreground: a few quick DISCOVERs, then the link-local fallback, retrying every few seconds. */
export function udhcpcArgv(node: DhcpClientNode, script: string): string[] {
  return ['busybox', 'udhcpc', '-f', '-i', 'eth0', '-s', script, '-t', '3', '-T', '1', '-A', '2', '-x', `hostname:${node}`];
}

export function dnsmasqArgv(conf: string): string[] {
  return ['dnsmasq', '--keep-in-foreground', `--conf-file=${conf}`];
}

/** The HTTP what-is-my-ip echo: busybox httpd runs cgi-bin/index.cgi for `/`. */
export function writeEchoSite(dir: string): void {
  mkdirSync(join(dir, 'cgi-bin'), { recursive: true });
  writeExecutable(join(dir, 'cgi-bin', 'index.cgi'), `#!/bin/sh
# The caller's source address as the whole body, like api.ipify.org.
printf 'Content-Type: text/plain\\r\\n\\r\\n'
printf '%s' "$REMOTE_ADDR"
`);
}

export function httpdArgv(dir: string): string[] {
  return ['busybox', 'httpd', '-f', '-p', `${WAN.ispIp}:80`, '-h', dir];
}

export interface Pki {
  dir: string;
  ca: string;
  cert: string;
  key: string;
  tlsAuthKey: string;
}

/**
 * A throwaway PKI for pi-vpn: EC keys (fast to make) and `dh none`, so this
 * costs a few tens of milliseconds. The CA key never leaves the state dir.
 */
export async function makePki(dir: string): Promise<Pki> {
  const p = (f: string) => join(dir, f);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await must(['openssl', 'req', '-x509', ...ec, '-keyout', p('ca.key'), '-out', p('ca.crt'), '-days', '30', '-subj', '/CN=netdoctor lab CA']);
  await must(['openssl', 'req', ...ec, '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', '/CN=pi-vpn.home']);
  writeFileSync(p('server.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyAgreement\nextendedKeyUsage=serverAuth\n');
  await must(['openssl', 'x509', '-req', '-in', p('server.csr'), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial',
    '-out', p('server.crt'), '-days', '30', '-extfile', p('server.ext')]);
  await must(['openvpn', '--genkey', 'secret', p('ta.key')]);
  return { dir, ca: p('ca.crt'), cert: p('server.crt'), key: p('server.key'), tlsAuthKey: p('ta.key') };
}

/** `tlsCrypt`/`tlsCryptV2`: the server's key file for that control-channel wrap (v2: the server key). */
export function openvpnConf(pki: Pki, opts: { port: number; subnet: string; tlsAuth: boolean; tlsCrypt?: string; tlsCryptV2?: string }): string {
  const wrap = opts.tlsAuth ? ', with tls-auth' : opts.tlsCrypt ? ', with tls-crypt' : opts.tlsCryptV2 ? ', with tls-crypt-v2' : '';
  return [
    `# pi-vpn: OpenVPN server on UDP ${opts.port}${wrap}. Written by \`netdoctor lab\`.`,
    'proto udp4',
    `port ${opts.port}`,
    // Reply from the address the packet came to, whatever DHCP gave the Pi.
    'multihome',
    'dev tun',
    'topology subnet',
    `server ${opts.subnet} 255.255.255.0`,
    `ca ${pki.ca}`,
    `cert ${pki.cert}`,
    `key ${pki.key}`,
    'dh none',
    // The lab needs no kernel module: keep OpenVPN in user space.
    'disable-dco',
    ...(opts.tlsAuth ? [`tls-auth ${pki.tlsAuthKey} ${VPN.serverDirection}`, `auth ${VPN.digest}`] : []),
    ...(opts.tlsCrypt ? [`tls-crypt ${opts.tlsCrypt}`] : []),
    ...(opts.tlsCryptV2 ? [`tls-crypt-v2 ${opts.tlsCryptV2}`] : []),
    'keepalive 10 60',
    'verb 3',
    '',
  ].join('\n');
}

export function openvpnArgv(conf: string): string[] {
  return ['openvpn', '--config', conf];
}
