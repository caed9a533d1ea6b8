/**
 * `check --user nobody`, started as root in the lab's client: port 68 is
 * bound before the drop, so the router's DHCP offer is still seen; the run
 * after the drop is nobody's, as the history it writes shows (owned by
 * nobody, mode 0600, in a directory nobody owns — the documented setup).
 * The contrast: the same check started as nobody cannot bind port 68 and
 * says so, while every other probe still runs.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { BUILT_CLI } from '../../src/lab/guest.js';
import { lookupUser } from '../../src/privileges.js';
import { checkReportSchema } from '../support/check-json.js';
import { describeLab } from '../support/lab.js';
import { nobodyCli } from '../support/nobody.js';

const scratch = mkdtempSync(join(tmpdir(), 'nd-user-'));
// nobody may pass through to what it owns here, and see nothing else.
chmodSync(scratch, 0o711);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describeLab('check --user: root only until port 68 is bound', (lab) => {
  it('as root with --user nobody: the offer is seen, and the history is written by nobody, for nobody', async () => {
    const nobody = lookupUser('nobody');
    const dir = join(scratch, 'history');
    execFileSync('install', ['-d', '-o', 'nobody', '-g', String(nobody.gid), '-m', '700', dir]);
    const db = join(dir, 'history.db');
    const yaml = lab().configYaml().replace(/^history:\n {2}path: .*$/m, `history:\n  path: ${db}`);
    expect(yaml).toContain(db);
    const config = lab().writeConfig(yaml, 'nobody.yaml');

    const r = await lab().exec('client', [process.execPath, nobodyCli(), 'check', '--json', '--config', config, '--user', 'nobody'], { timeoutMs: 40_000 });
    expect(r.stderr).not.toMatch(/internal error|history/i);
    const json = checkReportSchema.parse(JSON.parse(r.stdout));
    expect([r.code, json.status]).toEqual([0, 'ok']);
    const offers = json.observations.filter((o) => o.probe === 'dhcp' && o.check === 'offer');
    expect(offers.map((o) => [o.subject, o.status])).toEqual([['192.168.1.1', 'ok']]);

    // The run that wrote the history was nobody's: the file was created after the drop.
    const st = statSync(db);
    expect([st.uid, st.gid, st.mode & 0o777]).toEqual([nobody.uid, nobody.gid, 0o600]);
    const runs = execFileSync(process.execPath, ['--input-type=module', '-e', `
      import Database from 'better-sqlite3';
      const db = new Database(${JSON.stringify(db)}, { readonly: true });
      console.log(db.prepare('select count(*) as n from runs').get().n);
    `], { encoding: 'utf8', cwd: join(BUILT_CLI, '..', '..') }).trim();
    expect(runs).toBe('1');
  }, 90_000);

  it('started as nobody: no port 68, said plainly, and the other probes still run', async () => {
    const config = join(scratch, 'plain.yaml');
    writeFileSync(config, lab().configYaml(), { mode: 0o644 });
    const r = await lab().exec('client', ['runuser', '-u', 'nobody', '--', process.execPath, nobodyCli(), 'check', '--json', '--no-history', '--config', config], { timeoutMs: 40_000 });
    const json = checkReportSchema.parse(JSON.parse(r.stdout));
    const dhcp = json.observations.filter((o) => o.probe === 'dhcp');
    expect(dhcp.map((o) => `${o.status}/${o.reason}`)).toEqual(['error/permission']);
    expect(dhcp[0].summary).toMatch(/no permission to listen on UDP port 68/);
    expect(json.observations.filter((o) => o.probe === 'dns' && o.status === 'ok').length).toBeGreaterThan(0);
    expect(r.code).toBe(3);
  }, 90_000);
});
