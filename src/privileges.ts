/**
 * Running as little as possible as root. netdoctor needs root for one thing
 * — the DHCP probe's socket on UDP port 68 — and reads the network, where any
 * device can send it anything. So `check --user NAME`, started as root, opens
 * that socket first (Probe.prepare), then becomes NAME for good, and only then
 * lets the probes read a single datagram.
 *
 * The alternative without root at all is a capability on the node binary
 * (`setcap cap_net_bind_service,cap_net_raw+ep`), with the downside that every
 * script that node runs gets it; see the README's Hardening section.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { UsageError } from './shared/errors.js';

export interface TargetUser {
  name: string;
  uid: number;
  gid: number;
  home?: string;
}

/** The passwd line of `name` (NSS first, so LDAP/sssd users work; /etc/passwd when getent is missing). */
function passwdLine(name: string): string | undefined {
  try {
    return execFileSync('getent', ['passwd', '--', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).split('\n')[0];
  } catch (err) {
    // Exit 2 is "no such user"; anything else (no getent) falls back to the file.
    if ((err as { status?: number }).status === 2) return undefined;
  }
  try {
    return readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.split(':')[0] === name);
  } catch {
    return undefined;
  }
}

/** Looks up a user by name or numeric id; a usage error names what was given when there is no such user. */
export function lookupUser(nameOrId: string): TargetUser {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/.test(nameOrId)) {
    throw new UsageError(`--user ${JSON.stringify(nameOrId)} is not a user name (expected a name like nobody or netdoctor, or a numeric id)`);
  }
  const line = passwdLine(nameOrId);
  const f = line?.split(':');
  if (!f || f.length < 7 || !/^\d+$/.test(f[2]) || !/^\d+$/.test(f[3])) {
    throw new UsageError(`--user ${JSON.stringify(nameOrId)}: no such user on this machine`, 'Create one for netdoctor (sudo useradd --system --no-create-home netdoctor) or use nobody.');
  }
  return { name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5] || undefined };
}

export interface DropOutcome {
  /** True when the process changed user; false when it was not root (nothing to drop). */
  dropped: boolean;
  user: TargetUser;
  /** A line for stderr when --user could not take effect. */
  note?: string;
}

interface ProcessIds {
  getuid(): number;
  geteuid(): number;
  getgid(): number;
  getegid(): number;
  getgroups(): number[];
  setgroups(groups: number[]): void;
  setgid(id: number): void;
  setuid(id: number): void;
}

/**
 * Becomes `name` for the rest of the process: supplementary groups cleared,
 * then the group, then the user — in that order, since after setuid there is
 * no permission left to change groups. Then proves it cannot come back: a
 * setuid(0) that succeeds means the drop did not happen, and the process stops
 * rather than read the network as root. HOME and USER follow, so anything
 * resolved from them later belongs to the new user.
 *
 * Not root: there is nothing to drop; the process goes on as it is, and the
 * outcome carries a note for stderr when it runs as someone other than NAME.
 */
export function dropPrivileges(name: string, proc: ProcessIds = process as unknown as ProcessIds, env: NodeJS.ProcessEnv = process.env): DropOutcome {
  const user = lookupUser(name);
  if (proc.geteuid() !== 0) {
    if (proc.geteuid() === user.uid) return { dropped: false, user };
    return { dropped: false, user, note: `--user ${user.name} has no effect: netdoctor is not running as root, so it already runs without root's privileges (as uid ${proc.geteuid()})` };
  }
  if (user.uid === 0) {
    throw new UsageError(`--user ${JSON.stringify(name)} is root (uid 0): name an unprivileged user to drop to, such as nobody`);
  }
  proc.setgroups([]);
  proc.setgid(user.gid);
  proc.setuid(user.uid);
  if (proc.getuid() !== user.uid || proc.geteuid() !== user.uid || proc.getgid() !== user.gid || proc.getegid() !== user.gid) {
    throw new Error(`dropping to ${user.name} did not take (uid ${proc.getuid()}/${proc.geteuid()}, gid ${proc.getgid()}/${proc.getegid()})`);
  }
  if (proc.getgroups().some((g) => g !== user.gid)) throw new Error(`dropping to ${user.name} left supplementary groups ${proc.getgroups().join(',')}`);
  let regained = false;
  try {
    proc.setuid(0);
    regained = true;
  } catch {
    // EPERM: the drop is permanent, as it must be.
  }
  if (regained) throw new Error(`after dropping to ${user.name} the process could become root again; refusing to go on`);
  if (user.home) env.HOME = user.home;
  env.USER = user.name;
  env.LOGNAME = user.name;
  return { dropped: true, user };
}

/**
 * Files netdoctor writes (the history and its -wal/-shm, the DHCP probe's
 * MAC, reports) hold the LAN's addresses and names: readable by their owner
 * only, whatever mode a library creates them with. Returns the previous mask.
 */
export function restrictFileModes(): number {
  return process.umask(0o077);
}
