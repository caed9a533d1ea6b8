/**
 * The VPN probe's handshake, chosen by the config: OpenVPN plain, with
 * tls-auth, tls-crypt or tls-crypt-v2, or WireGuard as netdoctor's configured
 * peer (or, without one, as a peer nobody knows: then only a closed port can
 * be told from a live one). Key files are read here once per run; what cannot
 * be read is reported as an observation that names the key path, never the key.
 */
import { readFile } from 'node:fs/promises';
import type { VpnKind } from '../config/schema.js';
import { errorMessage } from '../shared/errors.js';
import { openvpnHandshake, parseStaticKey, TlsAuthKeyError, tlsAuthFromKey, type HandshakeResult, type ResetWrap, type TlsAuth } from './net/openvpn.js';
import { parseTlsCryptV2ClientKey, tlsCryptKeys, tlsCryptKeysFromFile, tlsCryptWrap } from './net/openvpn-tls-crypt.js';
import { anonymousPeer, parseKey, WireGuardKeyError, wireguardHandshake, wireguardPeer, type WireGuardPeer } from './net/wireguard.js';
import type { ProbeContext } from './types.js';

/** How netdoctor's handshake is protected: what the server must accept for it to answer. */
export type Protection = 'none' | 'tls-auth' | 'tls-crypt' | 'tls-crypt-v2' | 'wireguard-peer' | 'wireguard-unknown-peer';

export interface Handshaker {
  kind: VpnKind;
  protection: Protection;
  /** A key the server should know was used: silence then points at that key (or a firewall). */
  keyed: boolean;
  handshake(opts: { address: string; port: number; proto: 'udp' | 'tcp'; timeoutMs: number; signal: AbortSignal }): Promise<HandshakeResult>;
}

/** The handshake for this config, or null after reporting why its key cannot be used. */
export async function loadHandshaker(ctx: ProbeContext): Promise<Handshaker | null> {
  const { vpn } = ctx.config;
  if (vpn.kind === 'wireguard') {
    const peer = await loadWireguardPeer(ctx);
    if (peer === null) return null;
    return {
      kind: 'wireguard',
      protection: vpn.wireguard ? 'wireguard-peer' : 'wireguard-unknown-peer',
      keyed: !!vpn.wireguard,
      async handshake({ address, port, timeoutMs, signal }) {
        const r = await wireguardHandshake({ address, port, timeoutMs, signal, peer: peer ?? anonymousPeer() });
        const { serverIndex, cookieReplies, ...rest } = r;
        return {
          ...rest, proto: 'udp', signed: !!peer,
          serverSessionId: serverIndex?.toString(16).padStart(8, '0'),
          ...(cookieReplies ? { detail: `${cookieReplies} cookie repl${cookieReplies === 1 ? 'y' : 'ies'} (server under load)` } : {}),
        };
      },
    };
  }
  const tlsAuth = await loadTlsAuth(ctx);
  if (tlsAuth === null) return null;
  const wrap = await loadTlsCrypt(ctx);
  if (wrap === null) return null;
  return {
    kind: 'openvpn',
    protection: wrap?.kind ?? (tlsAuth ? 'tls-auth' : 'none'),
    keyed: !!(wrap || tlsAuth),
    handshake: (o) => openvpnHandshake({ ...o, tlsAuth, wrap }),
  };
}

/** A key file's text, or null after reporting (permission, missing) with the key path. */
async function readKeyFile(ctx: ProbeContext, path: string, keyPath: string, what: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') {
      ctx.emit({
        check: 'probe', subject: 'vpn', status: 'error', reason: 'permission',
        summary: `cannot read the ${what} ${path} (${keyPath}): permission denied — run netdoctor as root, or give its user read access to that file`,
      });
    } else {
      notConfigured(ctx, `${keyPath} ${JSON.stringify(path)} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? errorMessage(err)})`} (expected the ${what})`);
    }
    return null;
  }
}

/** The tls-auth key, or undefined when none is configured, or null after reporting why it cannot be used. */
async function loadTlsAuth(ctx: ProbeContext): Promise<TlsAuth | undefined | null> {
  const cfg = ctx.config.vpn.tlsAuth;
  if (!cfg) return undefined;
  const text = await readKeyFile(ctx, cfg.file, 'vpn.tlsAuth.file', 'tls-auth key (the ta.key shared with the server)');
  if (text === null) return null;
  return parsed(ctx, 'vpn.tlsAuth.file', cfg.file, () => tlsAuthFromKey(parseStaticKey(text), cfg.direction, cfg.digest));
}

async function loadTlsCrypt(ctx: ProbeContext): Promise<ResetWrap | undefined | null> {
  const { tlsCrypt, tlsCryptV2 } = ctx.config.vpn;
  if (tlsCrypt) {
    const text = await readKeyFile(ctx, tlsCrypt.file, 'vpn.tlsCrypt.file', 'tls-crypt key shared with the server (openvpn --genkey tls-crypt)');
    return text === null ? null : parsed(ctx, 'vpn.tlsCrypt.file', tlsCrypt.file, () => tlsCryptWrap(tlsCryptKeysFromFile(text)));
  }
  if (tlsCryptV2) {
    const text = await readKeyFile(ctx, tlsCryptV2.file, 'vpn.tlsCryptV2.file', 'tls-crypt-v2 client key (openvpn --genkey tls-crypt-v2-client)');
    if (text === null) return null;
    return parsed(ctx, 'vpn.tlsCryptV2.file', tlsCryptV2.file, () => {
      const { key, wkc } = parseTlsCryptV2ClientKey(text);
      return tlsCryptWrap(tlsCryptKeys(key), wkc);
    });
  }
  return undefined;
}

async function loadWireguardPeer(ctx: ProbeContext): Promise<WireGuardPeer | undefined | null> {
  const cfg = ctx.config.vpn.wireguard;
  if (!cfg) return undefined;
  const priv = await readKeyFile(ctx, cfg.privateKeyFile, 'vpn.wireguard.privateKeyFile', 'WireGuard private key of netdoctor\'s peer (wg genkey)');
  if (priv === null) return null;
  const psk = cfg.presharedKeyFile ? await readKeyFile(ctx, cfg.presharedKeyFile, 'vpn.wireguard.presharedKeyFile', 'preshared key of netdoctor\'s peer (wg genpsk)') : undefined;
  if (psk === null) return null;
  return parsed(ctx, 'vpn.wireguard', cfg.privateKeyFile, () =>
    wireguardPeer(
      parseKey(priv, `the private key file ${JSON.stringify(cfg.privateKeyFile)}`),
      parseKey(cfg.serverPublicKey, 'vpn.wireguard.serverPublicKey'),
      psk === undefined ? undefined : parseKey(psk, `the preshared key file ${JSON.stringify(cfg.presharedKeyFile)}`),
    ));
}

/** Runs a key parser; its key errors (which never quote key bytes) become a not-configured observation. */
function parsed<T>(ctx: ProbeContext, keyPath: string, file: string, parse: () => T): T | null {
  try {
    return parse();
  } catch (err) {
    if (!(err instanceof TlsAuthKeyError) && !(err instanceof WireGuardKeyError)) throw err;
    notConfigured(ctx, err instanceof WireGuardKeyError ? `${keyPath}: ${err.message}` : `${keyPath} ${JSON.stringify(file)} ${err.message}`);
    return null;
  }
}

export function notConfigured(ctx: ProbeContext, summary: string): void {
  ctx.emit({ check: 'probe', subject: 'vpn', status: 'error', reason: 'not-configured', summary });
}
