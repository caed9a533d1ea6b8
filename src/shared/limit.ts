/**
 * Bounded concurrency: how many sockets or child processes a probe keeps
 * open at once, so a long list of targets does not flood the LAN or the
 * machine.
 */

/**
 * A limiter shared by every task given to it: at most `n` run at once, the
 * rest wait their turn in the order they came. One limiter can serve several
 * lists (the DNS probe asks many servers, each many questions, under one bound).
 */
export function limiter(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  const most = Math.max(1, n);
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= most) await new Promise<void>((res) => waiting.push(res));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

/** Runs `fn` over `items` with at most `limit` in flight; results keep the input order. */
export function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const run = limiter(limit);
  return Promise.all(items.map((item, i) => run(() => fn(item, i))));
}
