/** Reading observations in tests: listings for failure messages, and the checks lab tests share. */
import { expect } from 'vitest';
import type { Observation } from '../../src/probes/types.js';

/** One line per observation (`id status/reason: summary`), for a failure message that shows what there was. */
export function listObservations(obs: readonly Observation[]): string {
  return obs.map((x) => `${x.id} ${x.status}/${x.reason}: ${x.summary}`).join('\n');
}

/** The probe ended by itself: no probe-level observation (nothing cut at the deadline, no crash, no error). */
export function finishedInTime(obs: readonly Observation[]): void {
  expect(obs.filter((o) => o.check === 'probe').map((o) => `${o.status}/${o.reason}: ${o.summary}`)).toEqual([]);
}
