/**
 * Which VPN the config describes (OpenVPN or WireGuard) and the rules that
 * span the vpn: keys: one control-channel key at most, no OpenVPN key on a
 * WireGuard VPN, WireGuard over UDP only.
 */
import type { ConfigFile, VpnKind } from './schema.js';

export const DEFAULT_WIREGUARD_PORT = 51820;

/** The kind as written, or wireguard when only a wireguard: section says so. */
export function vpnKindOf(file: ConfigFile): VpnKind {
  return file.vpn?.kind ?? (file.vpn?.wireguard ? 'wireguard' : 'openvpn');
}

/** Key paths whose values are key material (or may be, when mistyped): errors never quote them. */
export function isKeyMaterialPath(path: readonly PropertyKey[]): boolean {
  return path[0] === 'vpn' && path[1] === 'wireguard' && path[2] === 'serverPublicKey';
}

const OPENVPN_KEYS = ['tlsAuth', 'tlsCrypt', 'tlsCryptV2'] as const;

export function vpnKindIssues(cfg: ConfigFile): Array<[at: PropertyKey[], value: unknown, message: string]> {
  const vpn = cfg.vpn;
  if (!vpn) return [];
  const out: Array<[PropertyKey[], unknown, string]> = [];
  const given = OPENVPN_KEYS.filter((k) => vpn[k] !== undefined);
  const kind = vpnKindOf(cfg);
  if (kind === 'wireguard') {
    for (const k of given) out.push([['vpn', k], undefined, `is an OpenVPN key, but vpn.kind is wireguard; remove it, or set vpn.kind: openvpn`]);
    if (vpn.proto === 'tcp') out.push([['vpn', 'proto'], vpn.proto, 'is tcp, but WireGuard runs over UDP only; remove it or set proto: udp']);
  } else {
    if (vpn.wireguard) out.push([['vpn', 'wireguard'], undefined, 'is a WireGuard section, but vpn.kind is openvpn; remove it, or set vpn.kind: wireguard']);
    for (const k of given.slice(1)) {
      out.push([['vpn', k], undefined, `cannot go with vpn.${given[0]}: an OpenVPN server uses one of tlsAuth, tlsCrypt, tlsCryptV2 (the one in its server.conf)`]);
    }
  }
  return out;
}
