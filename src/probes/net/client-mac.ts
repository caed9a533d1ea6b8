/**
 * The MAC address the DHCP probe speaks from: locally administered, random
 * once per installation, then kept in a state file.
 *
 * Why kept: a DHCP server that pings before offering (dnsmasq, ISC dhcpd)
 * remembers the address it checked for a client for a while, so a known
 * client is answered in milliseconds instead of seconds; and a network sees
 * one stable, recognisable guest rather than a new device every run (no pool
 * entries, no "new device" alerts piling up). Why locally administered: it can
 * never collide with a vendor's address, and it is never this machine's own
 * MAC, so a server never confuses the probe with the host's real lease.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { isMac, normalizeMac } from '../../shared/ipv4.js';

export const CLIENT_MAC_FILE_NAME = 'dhcp-client-mac';

export interface ClientMac {
  mac: string;
  /** Where it came from: `option`/`env` (given), `state` (read or created in `file`), `ephemeral` (state not writable: this run only). */
  source: 'option' | 'env' | 'state' | 'ephemeral';
  file?: string;
  /** Why the state file could not be used, when `source` is `ephemeral`. */
  problem?: string;
}

/** Locally administered (bit 1 of the first octet set), unicast (bit 0 clear). */
export function isLocallyAdministeredUnicast(mac: string): boolean {
  if (!isMac(mac)) return false;
  const first = Number.parseInt(mac.slice(0, 2), 16);
  return (first & 0b10) !== 0 && (first & 0b1) === 0;
}

export function randomLocalMac(random: (n: number) => Uint8Array = (n) => randomBytes(n)): string {
  const bytes = random(6);
  bytes[0] = (bytes[0] & 0b1111_1100) | 0b10;
  return Array.from(bytes.subarray(0, 6), (b) => b.toString(16).padStart(2, '0')).join(':');
}

/**
 * Where the installation's MAC lives: `NETDOCTOR_DHCP_MAC_FILE` if set; else
 * `$XDG_STATE_HOME/netdoctor/`; else, for root (cron, systemd, sudo — whose
 * HOME varies), `/var/lib/netdoctor/`; else `~/.local/state/netdoctor/`.
 */
export function clientMacFile(env: NodeJS.ProcessEnv = process.env, isRoot = process.getuid?.() === 0): string {
  if (env.NETDOCTOR_DHCP_MAC_FILE) return env.NETDOCTOR_DHCP_MAC_FILE;
  if (env.XDG_STATE_HOME) return join(env.XDG_STATE_HOME, 'netdoctor', CLIENT_MAC_FILE_NAME);
  if (isRoot) return join('/var/lib/netdoctor', CLIENT_MAC_FILE_NAME);
  return join(env.HOME || homedir(), '.local', 'state', 'netdoctor', CLIENT_MAC_FILE_NAME);
}

function readMacFile(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const mac = normalizeMac(text.split('\n')[0] ?? '');
  return isLocallyAdministeredUnicast(mac) ? mac : undefined;
}

/**
 * The probe's MAC. Precedence: `explicit` (a probe option), then
 * `NETDOCTOR_DHCP_CLIENT_MAC`, then the state file (created on first use).
 * Two runs starting at once agree on one MAC: the file is created by linking
 * a complete temporary file into place, which fails if the other got there
 * first, and then the winner's file is read.
 */
export function loadClientMac(opts: { explicit?: unknown; env?: NodeJS.ProcessEnv; file?: string } = {}): ClientMac {
  const env = opts.env ?? process.env;
  for (const [given, source] of [[opts.explicit, 'option'], [env.NETDOCTOR_DHCP_CLIENT_MAC, 'env']] as const) {
    if (given === undefined || given === '') continue;
    const mac = typeof given === 'string' ? normalizeMac(given) : '';
    if (!isLocallyAdministeredUnicast(mac)) {
      const name = source === 'option' ? 'the clientMac option' : 'NETDOCTOR_DHCP_CLIENT_MAC';
      throw new RangeError(
        `${name} ${JSON.stringify(given)} is not a locally administered unicast MAC (expected six hex pairs whose first octet has bit 1 set and bit 0 clear, like 02:4e:44:00:00:01)`,
      );
    }
    return { mac, source };
  }

  const file = opts.file ?? clientMacFile(env);
  const existing = readMacFile(file);
  if (existing) return { mac: existing, source: 'state', file };

  const mac = randomLocalMac();
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    // Not for other users' eyes: with the history, it tells which guest on the LAN is netdoctor.
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(tmp, `${mac}\n`, { mode: 0o600 });
    try {
      linkSync(tmp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const theirs = readMacFile(file);
      if (theirs) return { mac: theirs, source: 'state', file };
      // The file exists but holds no usable MAC (edited, truncated): replace it.
      renameSync(tmp, file);
    }
    return { mac, source: 'state', file };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { mac, source: 'ephemeral', file, problem: `${e.code ?? 'error'} writing ${file}: ${e.message}` };
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // Already renamed into place, or never written.
    }
  }
}
