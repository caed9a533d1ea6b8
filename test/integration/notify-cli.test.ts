/**
 * `netdoctor notify test` from the built CLI: one line per channel saying
 * what happened, against a local receiver, a closed port and (in a network
 * namespace of its own with nothing but a downed loopback, so no query leaves
 * the machine) host names that do not resolve.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotificationMessage } from '../../src/sinks/notify/types.js';
import { describeWithPart, Receiver } from '../support/notify-parts.js';
import { freePort } from '../support/ports.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const CLI = join(ROOT, 'dist/cli.js');

function cli(args: string[], opts: { netnsOfItsOwn?: boolean } = {}): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  const [cmd, argv] = opts.netnsOfItsOwn ? ['/usr/bin/unshare', ['-n', process.execPath, CLI, ...args]] : [process.execPath, [CLI, ...args]];
  return new Promise((resolve) => {
    execFile(cmd, argv, { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? -1) : 0, stdout, stderr, ms: Date.now() - started });
    });
  });
}

function configFile(channels: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'nd-notify-cli-')), 'netdoctor.yaml');
  writeFileSync(file, `site: home\ninterface: lo\nnotify:\n  channels:\n${channels}`);
  return file;
}

describe('netdoctor notify test', () => {
  const rx = new Receiver();
  beforeAll(() => rx.start());
  afterAll(() => rx.stop());

  it('says per channel what happened: sent, or why not; exit 2 when any failed', async () => {
    const closed = await freePort();
    const file = configFile(`    - { type: webhook, name: hook, url: "${rx.url}/hook", bearer: secret-bearer-1 }
    - { type: ntfy, url: "${rx.url}/home-net" }
    - { type: webhook, name: nobody, url: "http://127.0.0.1:${closed}/hook" }
`);
    const r = await cli(['notify', 'test', '--config', file]);
    expect(r.stdout.split('\n')).toEqual([
      '✔ hook: sent',
      `✔ ntfy:127.0.0.1:${rx.port}/home-net: sent`,
      `✖ nobody: http://127.0.0.1:${closed}/hook: connection refused`,
      expect.stringMatching(/^1 of 3 channels failed \(\d+(ms|\.\d+s|s)\)$/),
      '',
    ]);
    expect(r.code).toBe(2);
    const sample = JSON.parse(rx.on('/hook')[0].body) as NotificationMessage;
    expect(sample).toMatchObject({ version: 1, kind: 'test', site: 'home' });
    expect(JSON.parse(rx.on('/')[0].body)).toMatchObject({ topic: 'home-net', tags: ['test_tube', 'netdoctor', 'home'] });
    expect(r.stdout + r.stderr).not.toContain('secret-bearer-1');
  }, 60_000);

  it('without channels: exit 3 and how to add one', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'nd-notify-cli-')), 'netdoctor.yaml');
    writeFileSync(file, 'site: home\ninterface: lo\n');
    const r = await cli(['notify', 'test', '--config', file]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('no notification channel is configured');
    expect(r.stderr).toContain('notify:');
  }, 60_000);
});

describeWithPart('notify test with names that do not resolve', process.getuid?.() === 0 ? undefined : 'needs root for a network namespace of its own (unshare -n)', () => {
  it('reports "does not resolve" for HTTP and SMTP channels quickly, without the password', async () => {
    const file = configFile(`    - { type: webhook, url: "http://nd-hook.invalid/hook" }
    - { type: email, url: "smtp://nd:secret-smtp-9@nd-mail.invalid:587", from: nd@home.example, to: me@home.example }
`);
    const r = await cli(['notify', 'test', '--config', file, '--timeout', '5s'], { netnsOfItsOwn: true });
    expect(r.stdout).toContain('✖ webhook:nd-hook.invalid: http://nd-hook.invalid/hook: host name does not resolve');
    expect(r.stdout).toContain('✖ email:nd-mail.invalid:587: smtp://nd-mail.invalid:587: host name does not resolve');
    expect(r.stdout + r.stderr).not.toContain('secret-smtp-9');
    expect(r.code).toBe(2);
    expect(r.ms).toBeLessThan(6000 + 2000); // the timeout plus node's start-up
  }, 60_000);
});
