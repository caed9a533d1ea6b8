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

/**
 * Polls `check` until it returns a value (anything but undefined or false)
 * and resolves with it; throws `timed out after N ms waiting for <what>` (and
 * `detail()`, when given) once `timeoutMs` has passed, so a caller that waits
 * in vain fails there, not at a later, vaguer assertion. The interval starts
 * at `intervalMs` (50) and grows to 250 ms.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  opts: { timeoutMs: number; intervalMs?: number; detail?: () => string },
): Promise<T> {
  const until = Date.now() + opts.timeoutMs;
  let interval = opts.intervalMs ?? 50;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) {
      const extra = opts.detail?.();
      throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${what}${extra ? `\n${extra}` : ''}`);
    }
    await sleep(interval);
    interval = Math.min(interval * 1.5, 250);
  }
}
