/** Paths for what tests run as nobody: this checkout, or its world-readable copy when nobody cannot read it (see global-setup.ts). */
import { join } from 'node:path';
import { inject } from 'vitest';
import './global-setup.js';

/** The checkout, or the staged copy of package.json, dist/, node_modules and run-probe.mjs. */
export const nobodyRoot = (): string => inject('nobodyRoot');
/** The built CLI nobody can load. */
export const nobodyCli = (): string => join(nobodyRoot(), 'dist', 'cli.js');
/** run-probe.mjs nobody can load. */
export const nobodyRunProbe = (): string => join(nobodyRoot(), 'test', 'support', 'run-probe.mjs');
/** A module under dist/ nobody can load. */
export const nobodyDist = (rel: string): string => join(nobodyRoot(), 'dist', rel);
