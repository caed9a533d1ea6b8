/**
 * `netdoctor diagnose --json` of every recorded scenario, byte for byte
 * against test/scenarios/golden/<name>.json (the timestamp aside), so a
 * refactor that must not change behaviour can prove it did not. Runs the
 * built dist/cli.js. After a deliberate change of output, rewrite the files
 * with `UPDATE_GOLDEN=1 npx vitest run test/scenarios/golden.test.ts` and
 * review the diff.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCENARIO_NAMES, SCENARIOS_DIR } from '../support/scenarios.js';

const root = new URL('../../', import.meta.url).pathname;
const cli = join(root, 'dist/cli.js');
const goldenDir = join(root, 'test/scenarios/golden');

/** The output with its run's start time blanked: the one field allowed to differ. */
function withoutTimestamps(json: string): string {
  return json.replace(/("startedAt": )"[^"]*"/g, '$1"…"');
}

describe('diagnose --json of every scenario matches its golden file', () => {
  it('has a golden file for every scenario', () => {
    for (const name of SCENARIO_NAMES) expect(existsSync(join(goldenDir, `${name}.json`)), name).toBe(true);
  });

  for (const name of SCENARIO_NAMES) {
    it(name, () => {
      const r = spawnSync(process.execPath, [cli, 'diagnose', '--json', join(SCENARIOS_DIR, name, 'observations.json')], {
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1' },
      });
      expect(r.stderr).toBe('');
      expect(r.stdout).not.toBe('');
      const golden = join(goldenDir, `${name}.json`);
      if (process.env.UPDATE_GOLDEN) writeFileSync(golden, r.stdout);
      expect(withoutTimestamps(r.stdout)).toBe(withoutTimestamps(readFileSync(golden, 'utf8')));
    });
  }
});
