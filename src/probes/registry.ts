/**
 * Every probe, listed once. Order is the order of display (TUI rows, text
 * output), which follows the seed's outage: addresses first, then names, then
 * the paths in from outside.
 */
import type { Probe } from './types.js';

export const probes: readonly Probe[] = [];
