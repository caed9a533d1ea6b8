/**
 * The words and fixes that differ between OpenVPN and WireGuard, for the VPN
 * rules: the service's name and units, how to tell netdoctor the key, and the
 * finding for "a VPN answers, but not with the key in netdoctor's config".
 */
import type { Config } from '../../config/resolve.js';
import type { HostConfig } from '../../config/schema.js';
import { WIREGUARD_INTERFACE } from '../../shared/vpn.js';
import { restartServiceFix } from '../fixes.js';
import type { Rule } from '../rule.js';
import type { Fix } from '../types.js';

export interface KindWords {
  /** OpenVPN or WireGuard. */
  name: string;
  /** systemd units, most likely first. */
  units: string[];
  /** The command that shows whether it runs. */
  status: string;
}

export function kindWords(config: Config): KindWords {
  return config.vpn.kind === 'wireguard'
    ? { name: 'WireGuard', units: [`wg-quick@${WIREGUARD_INTERFACE}`], status: 'sudo wg show' }
    : { name: 'OpenVPN', units: ['openvpn-server@server', 'openvpn@server'], status: 'sudo systemctl status openvpn@server' };
}

/** Restart the VPN service, named by kind, with the status command first. */
export function restartVpnFix(config: Config, host: HostConfig | undefined, where: string): Fix {
  const w = kindWords(config);
  const fix = restartServiceFix(host, where, w.units, w.name);
  return { ...fix, steps: [`See whether it runs: ${w.status}`, ...fix.steps] };
}

/** How to give netdoctor the key the server expects, or to check the one it has (`keyed`). */
export function keyFix(config: Config, host: HostConfig | undefined, keyed: boolean): Fix {
  const on = host?.name ?? 'the VPN server';
  if (config.vpn.kind === 'wireguard') {
    const wg = config.vpn.wireguard;
    return keyed
      ? {
          title: `Check that ${on} lists netdoctor as a WireGuard peer`,
          steps: [
            `WireGuard answers only peers it knows, and stays silent to any other. On ${on}: sudo wg show ${WIREGUARD_INTERFACE} peers must list netdoctor's public key (wg pubkey < ${wg?.privateKeyFile ?? 'netdoctor\'s key file'} prints it).`,
            `vpn.wireguard.serverPublicKey must equal sudo wg show ${WIREGUARD_INTERFACE} public-key on ${on}; if the peer has a PresharedKey, vpn.wireguard.presharedKeyFile must hold the same one.`,
          ],
        }
      : {
          title: 'Make netdoctor a WireGuard peer, so the server answers it',
          steps: [
            'WireGuard answers only peers it knows: without one, silence cannot tell a running server from a dead one. sudo netdoctor init makes netdoctor\'s probe key pair and prints the [Peer] block to add on the server.',
            `Add the block to /etc/wireguard/${WIREGUARD_INTERFACE}.conf on ${on}, then: sudo wg syncconf ${WIREGUARD_INTERFACE} <(sudo wg-quick strip ${WIREGUARD_INTERFACE}). Its AllowedIPs routes nothing.`,
          ],
          snippet: { file: 'netdoctor.yaml', language: 'yaml', text: ['vpn:', '  kind: wireguard', '  wireguard:', '    privateKeyFile: /etc/netdoctor/wireguard.key', '    serverPublicKey: <sudo wg show wg0 public-key>'].join('\n') },
        };
  }
  const file = config.vpn.tlsCrypt?.file ?? config.vpn.tlsCryptV2?.file ?? config.vpn.tlsAuth?.file;
  if (keyed) {
    return {
      title: 'Compare netdoctor\'s OpenVPN key with the server\'s',
      steps: [
        `netdoctor protected the handshake with ${file ?? 'the configured key'} and got no answer: OpenVPN drops every packet it cannot verify, so the key (for tls-auth also its direction or digest) differs from the server's, or the server hung.`,
        `On ${on}: grep -E '^(tls-auth|tls-crypt|tls-crypt-v2|auth|key-direction)' /etc/openvpn/server/*.conf /etc/openvpn/*.conf shows what the server uses; tls-crypt-v2 needs a client key made from that server's key (openvpn --tls-crypt-v2 server.key --genkey tls-crypt-v2-client).`,
      ],
    };
  }
  return {
    title: 'Tell netdoctor the OpenVPN server\'s control-channel key, so the server answers it',
    steps: [
      `An OpenVPN server with tls-auth, tls-crypt or tls-crypt-v2 drops every packet not protected with its key, so silence does not say whether it runs. Copy the key${host ? ` from ${host.name}` : ''} to this machine (readable only by you) and add the one line that matches the server's config.`,
      'tls-auth: the server\'s ta.key, direction 1 (the server uses 0), digest as its auth line. tls-crypt: the same key file the server names. tls-crypt-v2: a client key made for netdoctor on the server.',
    ],
    snippet: {
      file: 'netdoctor.yaml',
      language: 'yaml',
      text: ['vpn:', '  tlsAuth: { file: /etc/netdoctor/ta.key, direction: 1, digest: SHA1 }', '  # or  tlsCrypt: { file: /etc/netdoctor/tc.key }', '  # or  tlsCryptV2: { file: /etc/netdoctor/netdoctor-tc2.key }'].join('\n'),
    },
  };
}

/** A VPN answered, but its reply does not verify with netdoctor's key: it runs; netdoctor's config is wrong. */
export const wrongKey: Rule = {
  id: 'vpn-wrong-key',
  family: 'vpn',
  question: 'whether the VPN that answers accepts netdoctor\'s key',
  needs: ['vpn'],
  produces: ['vpn-wrong-key'],
  match(ctx) {
    const hits = ctx.of('vpn', 'handshake').filter((o) => o.reason === 'wrong-key');
    if (hits.length === 0) return [];
    const host = ctx.hostByName(ctx.config.vpn.host) ?? ctx.config.hosts.find((h) => h.roles?.includes('vpn'));
    const w = kindWords(ctx.config);
    const name = host?.name ?? ctx.config.vpn.host ?? hits[0].subject;
    return [{
      id: 'vpn-wrong-key',
      labels: { host: name },
      severity: 'warning',
      title: `${w.name} answers at ${hits[0].subject}, but with another key than netdoctor's`,
      explanation: `${hits[0].summary}. The VPN runs and is reachable there; netdoctor cannot vouch for it until its key matches the server's.`,
      impact: 'netdoctor cannot confirm the VPN handshake; clients with the right key are not affected.',
      evidence: hits.map((o) => o.id),
      fixes: [keyFix(ctx.config, host, true)],
    }];
  },
};
