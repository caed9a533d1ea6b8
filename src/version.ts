/**
 * Where netdoctor's package lives, and its version, found by walking up from
 * this module to the package.json named netdoctor — so it works from dist/,
 * from src/ under vitest, and from the benchmark build in .bench-build/.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackage(): { root: string; version: string } {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'netdoctor' && pkg.version) return { root: dir, version: pkg.version };
    }
    const up = dirname(dir);
    if (up === dir) return { root: dirname(fileURLToPath(import.meta.url)), version: '0.0.0' };
    dir = up;
  }
}

const found = findPackage();
export const VERSION: string = found.version;
/** The package's root directory (holds package.json, dist/, fixtures/). */
export const PACKAGE_ROOT: string = found.root;
