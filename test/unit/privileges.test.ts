/**
 * Dropping root and keeping files private: the order of the calls and the
 * refusal to go on when root could come back (a pretend process); the real
 * thing in a child process started as root (uid, groups, no way back, files
 * it creates are its own and 0600); the prepare step; and the modes of what
 * netdoctor writes — the history with its -wal/-shm while open, the DHCP MAC
 * state file, a report written with -o.
 *
 * The child processes run the built dist/ (npx tsc -p tsconfig.build.json).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadClientMac } from '../../src/probes/net/client-mac.js';
import { prepareProbes, releasePrepared } from '../../src/probes/prepare.js';
import { runProbes } from '../../src/probes/runner.js';
import type { Prepared, Probe } from '../../src/probes/types.js';
import { dropPrivileges, lookupUser } from '../../src/privileges.js';
import { UsageError } from '../../src/shared/errors.js';
import { PACKAGE_ROOT } from '../../src/version.js';
import { configFrom } from '../support/config.js';
import { sampleReport } from '../support/reports.js';
import { NOT_ROOT, describeNeeds, itNeeds } from '../support/needs.js';

const DIST = join(PACKAGE_ROOT, 'dist');
const NO_DIST = existsSync(join(DIST, 'privileges.js')) ? undefined : `${DIST}/privileges.js is missing: run npm run build`;
const scratch = mkdtempSync(join(tmpdir(), 'nd-priv-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const mode = (path: string) => statSync(path).mode & 0o777;

/** A pretend process that records the calls and behaves like the kernel (setuid(0) refused once not root). */
function pretendRoot(opts: { regainable?: boolean } = {}) {
  const calls: string[] = [];
  const ids = { uid: 0, euid: 0, gid: 0, egid: 0, groups: [0, 4, 27] };
  return {
    calls,
    ids,
    proc: {
      getuid: () => ids.uid,
      geteuid: () => ids.euid,
      getgid: () => ids.gid,
      getegid: () => ids.egid,
      getgroups: () => ids.groups,
      setgroups(g: number[]) {
        calls.push(`setgroups(${g.join(',')})`);
        if (ids.euid !== 0) throw new Error('EPERM');
        ids.groups = g;
      },
      setgid(id: number) {
        calls.push(`setgid(${id})`);
        if (ids.euid !== 0) throw new Error('EPERM');
        ids.gid = ids.egid = id;
      },
      setuid(id: number) {
        calls.push(`setuid(${id})`);
        if (ids.euid !== 0 && !opts.regainable) throw new Error('EPERM');
        ids.uid = ids.euid = id;
      },
    },
  };
}

describe('dropPrivileges', () => {
  const nobody = lookupUser('nobody');

  it('clears the groups, then sets the group, then the user, and proves root cannot come back', () => {
    const p = pretendRoot();
    const env: NodeJS.ProcessEnv = { HOME: '/root', USER: 'root' };
    const out = dropPrivileges('nobody', p.proc, env);
    expect(out).toMatchObject({ dropped: true, user: { name: 'nobody', uid: nobody.uid, gid: nobody.gid } });
    expect(p.calls).toEqual(['setgroups()', `setgid(${nobody.gid})`, `setuid(${nobody.uid})`, 'setuid(0)']);
    expect(p.ids).toMatchObject({ uid: nobody.uid, euid: nobody.uid, gid: nobody.gid, groups: [] });
    // Paths worked out later (the history's default place) belong to the new user.
    expect(env).toMatchObject({ HOME: nobody.home, USER: 'nobody', LOGNAME: 'nobody' });
  });

  it('refuses to go on when setuid(0) still works after the drop', () => {
    const p = pretendRoot({ regainable: true });
    expect(() => dropPrivileges('nobody', p.proc, {})).toThrow(/could become root again; refusing to go on/);
  });

  it('is a no-op with a note when not root, and silent when already that user', () => {
    const p = pretendRoot();
    p.ids.uid = p.ids.euid = 1000;
    const out = dropPrivileges('nobody', p.proc, {});
    expect(out.dropped).toBe(false);
    expect(out.note).toMatch(/--user nobody has no effect: netdoctor is not running as root/);
    expect(p.calls).toEqual([]);
    p.ids.uid = p.ids.euid = nobody.uid;
    expect(dropPrivileges('nobody', p.proc, {}).note).toBeUndefined();
  });

  it('refuses root itself, unknown users and things that are not names, naming what was given', () => {
    expect(() => dropPrivileges('root', pretendRoot().proc, {})).toThrow(/--user "root" is root \(uid 0\)/);
    expect(() => lookupUser('no-such-user-nd')).toThrow(UsageError);
    expect(() => lookupUser('no-such-user-nd')).toThrow(/--user "no-such-user-nd": no such user/);
    expect(() => lookupUser('../etc')).toThrow(/is not a user name/);
    expect(lookupUser(String(nobody.uid)).name).toBe('nobody');
  });
});

describeNeeds(NOT_ROOT ?? NO_DIST, 'the real drop, in a child process started as root', () => {
  it('ends as nobody with no groups and no way back; what it creates is its own and 0600', () => {
    const dir = join(scratch, 'nobody-home');
    chmodSync(scratch, 0o711); // nobody may pass through to its own directory, and no further
    execFileSync('install', ['-d', '-o', 'nobody', '-m', '700', dir]);
    const script = `
      import { writeFileSync } from 'node:fs';
      import { dropPrivileges, restrictFileModes } from ${JSON.stringify(join(DIST, 'privileges.js'))};
      restrictFileModes();
      dropPrivileges('nobody');
      let back = 'no';
      try { process.setuid(0); back = 'yes'; } catch {}
      writeFileSync(${JSON.stringify(join(dir, 'made-by-child'))}, 'x');
      console.log(JSON.stringify({ uid: process.getuid(), euid: process.geteuid(), gid: process.getgid(), groups: process.getgroups(), back, home: process.env.HOME }));
    `;
    const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as Record<string, unknown>;
    const nobody = lookupUser('nobody');
    // Node's getgroups() always lists the effective group itself; nothing else may be left.
    expect(out).toEqual({ uid: nobody.uid, euid: nobody.uid, gid: nobody.gid, groups: [nobody.gid], back: 'no', home: nobody.home });
    const made = statSync(join(dir, 'made-by-child'));
    expect([made.uid, made.mode & 0o777]).toEqual([nobody.uid, 0o600]);
  });
});

describe('prepareProbes', () => {
  const config = configFrom('');
  const probe = (name: Probe['name'], prepare?: Probe['prepare']): Probe => ({ name, title: name, vantages: ['inside'], run: async () => {}, prepare });

  it('keeps what each prepare opened, records why one failed, and gives up on one that hangs, releasing it when it comes', async () => {
    const released: string[] = [];
    const resource = (n: string): Prepared => ({ release: () => released.push(n) });
    let finishLate!: (p: Prepared) => void;
    const result = await prepareProbes([
      probe('dhcp', async () => resource('dhcp')),
      probe('dns', async () => {
        throw new Error('EACCES: no permission for port 68');
      }),
      probe('vpn', () => new Promise<Prepared>((res) => (finishLate = res))),
      probe('wan'),
    ], { config, vantage: 'inside', timeoutMs: 50 });
    expect([...result.prepared.keys()]).toEqual(['dhcp']);
    expect(Object.fromEntries(result.failed)).toEqual({ dns: 'EACCES: no permission for port 68', vpn: 'prepare did not finish within 50 ms' });
    finishLate(resource('vpn-late'));
    await new Promise((r) => setImmediate(r));
    expect(released).toEqual(['vpn-late']);
    releasePrepared(new Map([...result.prepared, ['wan', { release: () => { throw new Error('already closed'); } }]]));
    expect(released).toEqual(['vpn-late', 'dhcp']);
  });
});

describe('runProbes hands each probe what was prepared for it', () => {
  it('ctx.prepared is that probe\'s resource, and undefined for the others', async () => {
    const resource: Prepared = { release: () => {} };
    const seen: Record<string, unknown> = {};
    const probe = (name: Probe['name']): Probe => ({ name, title: name, vantages: ['inside'], run: async (ctx) => { seen[name] = ctx.prepared; } });
    const probes = [probe('dhcp'), probe('dns')];
    await runProbes({ config: configFrom(''), selection: { run: probes, skipped: [] }, vantage: 'inside', deadlineMs: 1000, prepared: new Map([['dhcp', resource]]) });
    expect(seen).toEqual({ dhcp: resource, dns: undefined });
  });
});

describe('files netdoctor writes are not readable by others', () => {
  it('the DHCP probe\'s MAC state file and its directory', () => {
    const file = join(scratch, 'state', 'netdoctor', 'dhcp-client-mac');
    const mac = loadClientMac({ file, env: {} });
    expect(mac.source).toBe('state');
    expect(mode(file)).toBe(0o600);
    expect(mode(join(scratch, 'state', 'netdoctor'))).toBe(0o700);
  });

  itNeeds(NO_DIST, 'the history and its -wal/-shm while a run is being recorded, under check\'s file mode mask', () => {
    // A directory others may enter (like /var/lib/netdoctor made by hand): the files themselves must be private.
    const dir = join(scratch, 'shared-dir');
    execFileSync('install', ['-d', '-m', '755', dir]);
    const db = join(dir, 'history.db');
    const script = `
      import { statSync } from 'node:fs';
      import { restrictFileModes } from ${JSON.stringify(join(DIST, 'privileges.js'))};
      import { History } from ${JSON.stringify(join(DIST, 'history', 'history.js'))};
      restrictFileModes();
      const report = JSON.parse(process.argv[1]);
      const h = History.open(${JSON.stringify(db)});
      h.recordRun(report);
      const modes = {};
      for (const f of ['', '-wal', '-shm']) modes[f || 'db'] = statSync(${JSON.stringify(db)} + f).mode & 0o777;
      h.close();
      console.log(JSON.stringify(modes));
    `;
    const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(sampleReport(Date.now(), { broken: true }))], { encoding: 'utf8' })) as Record<string, number>;
    expect(out).toEqual({ db: 0o600, '-wal': 0o600, '-shm': 0o600 });
  });

  itNeeds(NO_DIST, 'a report written with -o', () => {
    const db = join(scratch, 'report-history.db');
    const seed = `
      import { History } from ${JSON.stringify(join(DIST, 'history', 'history.js'))};
      const [a, b] = JSON.parse(process.argv[1]);
      const h = History.open(${JSON.stringify(db)}); h.recordRun(a); h.recordRun(b); h.close();
    `;
    const t = Date.now() - 3_600_000;
    execFileSync(process.execPath, ['--input-type=module', '-e', seed, JSON.stringify([sampleReport(t, { broken: true }), sampleReport(t + 300_000)])]);
    const cfg = join(scratch, 'report.yaml');
    execFileSync('sh', ['-c', `printf 'history: { path: %s }\\n' "$1" > "$2"`, 'sh', db, cfg]);
    const out = join(scratch, 'incident.md');
    const r = spawnSync(process.execPath, [join(DIST, 'cli.js'), 'report', '--config', cfg, '--last', '-o', out], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(mode(out)).toBe(0o600);
  });
});
