/**
 * The VPN probe's verdict on one handshake: status, reason and a summary in
 * words that name the VPN kind and what protected the handshake. Silence is
 * never "down" unless nobody is at the address.
 */
import { isLinkLocal } from '../shared/ipv4.js';
import type { HandshakeResult } from './net/openvpn.js';
import type { Observation } from './types.js';
import type { Handshaker, Protection } from './vpn-handshaker.js';

/** A handshake result, with whether a host is at the address when the handshake met silence. */
export type Checked = HandshakeResult & { presence?: Presence };

export interface Presence {
  /** undefined: could not tell (ping unavailable, no permission). */
  present?: boolean;
  evidence: string;
}

/** What the handshake's result says, in words that name the VPN kind. */
export function verdictOf(
  r: Checked,
  where: string,
  what: string,
  hs: Pick<Handshaker, 'kind' | 'protection' | 'keyed'> = { kind: 'openvpn', protection: r.signed ? 'tls-auth' : 'none', keyed: r.signed },
): { status: Observation['status']; reason: string; summary: string } {
  const name = hs.kind === 'wireguard' ? 'WireGuard' : 'OpenVPN';
  switch (r.outcome) {
    case 'answered':
      return { status: 'ok', reason: 'answered', summary: `${name} answers at ${where} (${what}) in ${r.rttMs} ms${PROTECTED[hs.protection]}` };
    case 'wrong-key':
      return {
        status: 'error',
        reason: 'wrong-key',
        summary: `${name} answers at ${where} (${what}), but with another key: its reply does not verify with ${KEY_NAME[hs.protection]} in netdoctor's config — the VPN runs; the key is wrong`,
      };
    case 'refused':
      return {
        status: 'fail',
        reason: 'refused',
        summary: `nothing listens on ${where} (${what}): ${r.proto === 'udp' ? 'ICMP port unreachable' : 'connection refused'}`,
      };
    case 'host-unreachable':
      return { status: 'fail', reason: 'host-unreachable', summary: `no host at ${r.address} (${what}): host unreachable` };
    case 'no-route':
      return {
        status: 'error',
        reason: 'no-route',
        summary: `cannot reach ${r.address} (${what}) from here: no route${isLinkLocal(r.address) ? ' to a link-local address' : ''}`,
      };
    case 'no-reply':
      if (r.presence?.present === false) {
        return { status: 'fail', reason: 'host-unreachable', summary: `no host at ${r.address} (${what}): no answer to the handshake in ${r.elapsedMs} ms, and ${r.presence.evidence}` };
      }
      return {
        status: 'error',
        reason: 'no-reply',
        summary: `no answer from ${where} (${what}) in ${r.elapsedMs} ms${r.presence?.present ? ` though the host ${r.presence.evidence}` : ''}: unknown, not down — ${SILENCE[hs.protection]}`,
      };
    case 'aborted':
    case 'error':
      return { status: 'error', reason: 'socket-error', summary: `could not send a handshake to ${where} (${what}): ${r.detail ?? r.errorCode ?? 'error'}` };
  }
}

const PROTECTED: Record<Protection, string> = {
  none: '',
  'tls-auth': ', tls-auth signed',
  'tls-crypt': ', tls-crypt verified',
  'tls-crypt-v2': ', tls-crypt-v2 verified',
  'wireguard-peer': ', as netdoctor\'s peer',
  'wireguard-unknown-peer': ' (a cookie reply: the server is under load)',
};

const KEY_NAME: Record<Protection, string> = {
  none: 'no key',
  'tls-auth': 'the tls-auth key',
  'tls-crypt': 'the tls-crypt key',
  'tls-crypt-v2': 'the tls-crypt-v2 client key',
  'wireguard-peer': 'the keys (the preshared key differs from the server\'s)',
  'wireguard-unknown-peer': 'no key',
};

/** Why silence is not "down", by what protected the handshake. */
const SILENCE: Record<Protection, string> = {
  none: 'a server with tls-auth or tls-crypt ignores unsigned handshakes (set vpn.tlsAuth, vpn.tlsCrypt or vpn.tlsCryptV2 to check it)',
  'tls-auth': 'a firewall, or the tls-auth key, key-direction or digest differs from the server\'s',
  'tls-crypt': 'a firewall, or the tls-crypt key differs from the server\'s (OpenVPN drops what it cannot unwrap)',
  'tls-crypt-v2': 'a firewall, or the tls-crypt-v2 client key was made for another server key (OpenVPN drops what it cannot unwrap)',
  'wireguard-peer': 'a firewall, or the server does not list netdoctor\'s public key as a [Peer], or vpn.wireguard.serverPublicKey is not its key',
  'wireguard-unknown-peer': 'WireGuard answers only known peers (set vpn.wireguard to check it as a peer)',
};

