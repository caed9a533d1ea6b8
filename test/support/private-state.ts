/**
 * Runs before every test file: gives the test process (and all it spawns) its
 * own XDG state and config dirs, so no test — however it starts netdoctor —
 * can read the real user's netdoctor.yaml or write into the real
 * /var/lib/netdoctor or ~/.local/state (a root run once left its DHCP MAC file
 * there). Tests that check the defaults pass their own env explicitly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const saved = { XDG_STATE_HOME: process.env.XDG_STATE_HOME, XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME };
const dir = mkdtempSync(join(tmpdir(), 'nd-test-state-'));
process.env.XDG_STATE_HOME = join(dir, 'state');
process.env.XDG_CONFIG_HOME = join(dir, 'config');

afterAll(() => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  rmSync(dir, { recursive: true, force: true });
});
