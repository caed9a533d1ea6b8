/**
 * Waiting without blocking: a pause that an abort cuts short, and polling
 * until a condition holds.
 */
import { setTimeout as delay } from 'node:timers/promises';

/**
 * Waits `ms` (at least 0), or less when `signal` aborts first. It never
 * rejects: a loop that checks `signal.aborted` after the pause ends by itself.
 * Node's own `setTimeout` from `node:timers/promises` is the timer, so a test
 * that counts `globalThis.setTimeout` calls does not count these.
 */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(Math.max(0, ms), undefined, { signal });
  } catch {
    // aborted: the caller looks at the signal
  }
}
