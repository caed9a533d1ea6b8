/**
 * Durations as people write them in YAML and on the command line: `500ms`,
 * `2s`, `1.5s`, `5m`, `2h`, `90d`. A bare number is seconds, because that is
 * what cron users type for `--deadline 10`.
 */
const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const DURATION = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$/;

export const DURATION_HINT = 'a duration like 500ms, 2s, 5m, 24h or 90d';

/** Milliseconds, or undefined when the text is not a duration. */
export function parseDuration(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) && text >= 0 ? text * 1000 : undefined;
  const m = DURATION.exec(text);
  if (!m) return undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2] ?? 's'];
  return Number.isFinite(ms) ? Math.round(ms) : undefined;
}

export interface DurationStyle {
  /**
   * Prose: a space before each unit, and `min` for minutes ("850 ms", "3.1 s",
   * "5 min 20 s"). Default: the compact form of figures and flags ("850ms",
   * "3.1s", "5m20s"), which reads back through {@link parseDuration}.
   */
  spaced?: boolean;
  /** Latencies: under 10 ms, two significant digits ("0.043ms", "2.5ms") instead of whole milliseconds. */
  fine?: boolean;
}

const PARTS: ReadonlyArray<[size: number, unit: string, spacedUnit: string]> = [
  [86_400_000, 'd', 'd'],
  [3_600_000, 'h', 'h'],
  [60_000, 'm', 'min'],
  [1000, 's', 's'],
];

/**
 * Short human form: 850ms, 2.5s, 3m20s, 2h5m, 3d4h (at most two units);
 * `?` when the time is not known (undefined, NaN).
 */
export function formatDuration(ms: number | undefined, style: DurationStyle = {}): string {
  if (ms === undefined || !Number.isFinite(ms)) return '?';
  if (ms < 0) return `-${formatDuration(-ms, style)}`;
  const sep = style.spaced ? ' ' : '';
  if (style.fine && ms < 10) return `${Number(ms.toPrecision(2))}${sep}ms`;
  if (ms < 1000) return `${Math.round(ms)}${sep}ms`;
  if (ms < 60_000) {
    const s = ms / 1000;
    return `${s < 10 ? s.toFixed(1).replace(/\.0$/, '') : Math.round(s)}${sep}s`;
  }
  let rest = Math.round(ms / 1000) * 1000;
  const out: string[] = [];
  for (const [size, unit, spacedUnit] of PARTS) {
    if (rest >= size) {
      out.push(`${Math.floor(rest / size)}${sep}${style.spaced ? spacedUnit : unit}`);
      rest %= size;
    }
    if (out.length === 2) break;
  }
  return out.join(sep);
}
