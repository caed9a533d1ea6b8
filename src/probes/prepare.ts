/**
 * The step before a run: every selected probe that has a `prepare` opens
 * what needs root (the DHCP probe binds UDP port 68) while netdoctor still
 * has it. `check --user NAME` then drops root, and only after that do the
 * probes run and read anything from the network.
 *
 * A prepare that fails or hangs costs nothing but itself: its probe gets no
 * prepared resource and opens what it needs in `run`, where a failure is
 * reported as an observation like any other.
 */
import type { Config } from '../config/resolve.js';
import type { Prepared, Probe, ProbeName, Vantage } from './types.js';

/** A bind takes microseconds; this only bounds a prepare that blocks on something unexpected. */
export const PREPARE_TIMEOUT_MS = 2000;

export interface PrepareOptions {
  config: Config;
  vantage: Vantage;
  options?: Record<string, unknown>;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface PrepareResult {
  prepared: Map<ProbeName, Prepared>;
  /** Why a probe's prepare gave nothing; the probe reports it again from `run` in its own words. */
  failed: Map<ProbeName, string>;
}

export async function prepareProbes(probes: readonly Probe[], opts: PrepareOptions): Promise<PrepareResult> {
  const result: PrepareResult = { prepared: new Map(), failed: new Map() };
  const signal = opts.signal ?? new AbortController().signal;
  await Promise.all(
    probes.map(async (probe) => {
      if (!probe.prepare) return;
      let timer: NodeJS.Timeout | undefined;
      let late = false;
      const work = probe.prepare({ config: opts.config, vantage: opts.vantage, options: opts.options ?? {}, signal });
      const timeout = new Promise<'timeout'>((res) => {
        timer = setTimeout(() => res('timeout'), opts.timeoutMs ?? PREPARE_TIMEOUT_MS);
      });
      try {
        const got = await Promise.race([work, timeout]);
        if (got === 'timeout') {
          late = true;
          result.failed.set(probe.name, `prepare did not finish within ${opts.timeoutMs ?? PREPARE_TIMEOUT_MS} ms`);
        } else if (got) {
          result.prepared.set(probe.name, got);
        }
      } catch (err) {
        result.failed.set(probe.name, err instanceof Error ? err.message : String(err));
      } finally {
        clearTimeout(timer);
      }
      // A prepare that finished after we stopped waiting: nobody will use what it opened.
      if (late) void work.then((p) => p?.release(), () => {});
    }),
  );
  return result;
}

/** Releases everything `prepareProbes` opened; never throws. */
export function releasePrepared(prepared: ReadonlyMap<ProbeName, Prepared>): void {
  for (const p of prepared.values()) {
    try {
      p.release();
    } catch {
      // Already released or closed by its probe: nothing left to free.
    }
  }
}
