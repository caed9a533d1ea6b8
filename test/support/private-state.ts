/**
 * Runs before every test file: gives the test process (and all it spawns) its
 * own XDG state and config dirs, so no test — however it starts netdoctor —
 * can read the real user's netdoctor.yaml or write into the real
 * /var/lib/netdoctor or ~/.local/state (a root run once left its DHCP MAC file
 * there). Tests that check the defaults pass their own env explicitly.
 * TMPDIR points inside too, so every scratch dir a test makes with
 * os.tmpdir() goes when the file ends, even when the test forgot or failed.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const saved = { XDG_STATE_HOME: process.env.XDG_STATE_HOME, XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME, TMPDIR: process.env.TMPDIR };
const dir = mkdtempSync(join(tmpdir(), 'nd-test-state-'));
// Lab nodes run some things as nobody: they must pass through to the files a test shares with them.
chmodSync(dir, 0o711);
mkdirSync(join(dir, 'tmp'), { mode: 0o711 });
process.env.XDG_STATE_HOME = join(dir, 'state');
process.env.XDG_CONFIG_HOME = join(dir, 'config');
process.env.TMPDIR = join(dir, 'tmp');

afterAll(() => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  rmSync(dir, { recursive: true, force: true });
});
