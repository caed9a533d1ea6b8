/** WireGuard facts shared by the lab, the rules' fixes and init. */

/** AllowedIPs for netdoctor's peer: a single address nothing sends to, so the peer routes nothing. */
export const PROBE_PEER_ALLOWED_IPS = '0.0.0.0/32';

/** The interface wg-quick and PiVPN use by default. */
export const WIREGUARD_INTERFACE = 'wg0';

/** The [Peer] block that makes netdoctor a known peer of the server without routing anything through it. */
export function wireguardPeerBlock(publicKey: string): string {
  return ['[Peer]', '# netdoctor: answers its handshake probe; routes nothing', `PublicKey = ${publicKey}`, `AllowedIPs = ${PROBE_PEER_ALLOWED_IPS}`].join('\n');
}
