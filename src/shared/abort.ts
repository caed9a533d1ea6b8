/**
 * Many waiters on one AbortSignal through a single 'abort' listener, removed
 * when the last waiter leaves. A listener per ping or per question (hundreds
 * on a busy LAN) tripped Node's MaxListenersExceededWarning on stderr and, in
 * a long `serve`, kept closures alive; see docs/benchmarks.md (scale).
 */

interface Hub {
  waiters: Set<() => void>;
  fire: () => void;
}

const hubs = new WeakMap<AbortSignal, Hub>();

/** Calls `fn` once when `signal` aborts (at once if it already has); the returned function withdraws it. */
export function onAbort(signal: AbortSignal | undefined, fn: () => void): () => void {
  if (!signal) return () => {};
  if (signal.aborted) {
    fn();
    return () => {};
  }
  let hub = hubs.get(signal);
  if (!hub) {
    const waiters = new Set<() => void>();
    const fire = () => {
      hubs.delete(signal);
      for (const w of [...waiters]) w();
      waiters.clear();
    };
    hub = { waiters, fire };
    hubs.set(signal, hub);
    signal.addEventListener('abort', fire, { once: true });
  }
  const entry = () => fn();
  hub.waiters.add(entry);
  const mine = hub;
  return () => {
    if (!mine.waiters.delete(entry) || mine.waiters.size > 0 || hubs.get(signal) !== mine) return;
    hubs.delete(signal);
    signal.removeEventListener('abort', mine.fire);
  };
}

/**
 * A signal that aborts when any of `signals` does, like `AbortSignal.any`,
 * but whose listeners `dispose` removes at once (Node 20's `AbortSignal.any`
 * leaves one on each input until garbage collection, and they count towards
 * the warning).
 */
export function anySignal(signals: ReadonlyArray<AbortSignal | undefined>): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const offs: Array<() => void> = [];
  const dispose = (): void => {
    for (const off of offs.splice(0)) off();
  };
  for (const s of signals) {
    offs.push(onAbort(s, () => {
      controller.abort(s?.reason);
      dispose();
    }));
    if (controller.signal.aborted) break;
  }
  if (controller.signal.aborted) dispose();
  return { signal: controller.signal, dispose };
}
