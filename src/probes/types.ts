/**
 * The contract between probes and everything after them. A probe observes the
 * network and emits observations: plain, JSON-able data, never booleans or
 * verdicts. Diagnosis happens later, elsewhere.
 */
import type { Config } from '../config/resolve.js';

export const PROBE_NAMES = ['dhcp', 'hosts', 'wan', 'dns', 'vpn', 'ddns', 'router'] as const;

/** DNS query reasons for a local name that was answered, only not with the expected address (docs/observations.md). */
export const DNS_WRONG_ANSWER_REASONS: readonly string[] = ['wrong-answer', 'nxdomain', 'no-answer'];
export type ProbeName = (typeof PROBE_NAMES)[number];

/** Where netdoctor runs: on the LAN, or outside it (a VPS) looking in. */
export type Vantage = 'inside' | 'outside';

/**
 * - ok: the network did what it should
 * - fail: the network is bad (no DHCP offer, wrong DNS answer, host gone)
 * - error: netdoctor could not measure (no permission, timeout of netdoctor itself)
 * - skipped: not run (not selected, wrong vantage, nothing configured)
 */
export type ObservationStatus = 'ok' | 'fail' | 'error' | 'skipped';

export interface Observation<D = unknown> {
  /** `<probe>:<check>:<subject>`, unique within a run; findings cite it as evidence. */
  id: string;
  probe: ProbeName;
  /** What kind of check inside the probe: `offer`, `summary`, `host`, `query`… */
  check: string;
  /** What it is about: a server address, a host name, `pi-dns/pi-vpn.home/A`. Metric paths use it. */
  subject: string;
  status: ObservationStatus;
  /** Stable machine-readable code (`no-offer`, `timeout`, `moved`, `refused`). Rules match on it. */
  reason: string;
  /** One human line. */
  summary: string;
  labels: Record<string, string>;
  /** Numbers that become metrics: `<prefix>.<probe>.<subject>.<key>`. */
  values: Record<string, number>;
  data?: D;
  /** Time this observation took to make, ms. */
  durationMs: number;
  /** ISO time it was made. */
  at: string;
}

/** What a probe hands to `emit`; the runner fills id, probe, at and (if absent) durationMs. */
export type ObservationDraft<D = unknown> = Omit<Observation<D>, 'id' | 'probe' | 'at' | 'durationMs' | 'labels' | 'values'> & {
  labels?: Record<string, string>;
  values?: Record<string, number>;
  durationMs?: number;
};

export interface ProbeContext {
  config: Config;
  vantage: Vantage;
  /** Aborted at the run's deadline or when the user interrupts. Pass it to every socket and child process. */
  signal: AbortSignal;
  /** Epoch ms by which the probe must have emitted everything. */
  deadline: number;
  /** Probe-specific flags from the command line (e.g. `--force` for sweeps wider than /22). */
  options: Readonly<Record<string, unknown>>;
  emit(draft: ObservationDraft): Observation;
  /**
   * Observations of another probe of the same run, once it has finished;
   * undefined when that probe is not part of the run. Lets the DNS probe ask
   * the DHCP-offered server and the VPN probe follow a moved host, without
   * serialising the whole run.
   */
  resultsOf(probe: ProbeName): Promise<Observation[] | undefined>;
  /**
   * What this probe's `prepare` opened before the run (and before root was
   * dropped, with `--user`); undefined when it has no `prepare` or that
   * failed, and the probe then opens what it needs itself. The probe uses it
   * but does not release it: whoever prepared it does, after the run.
   */
  prepared?: Prepared;
}

/** What `prepare` gets: the run's settings, none of its I/O. */
export interface PrepareContext {
  config: Config;
  vantage: Vantage;
  options: Readonly<Record<string, unknown>>;
  signal: AbortSignal;
}

/** A resource a probe opened ahead of the run (a socket bound to a privileged port). Releasing it twice is harmless. */
export interface Prepared {
  release(): void;
}

export interface Probe {
  name: ProbeName;
  /** One line for `--help` and the TUI. */
  title: string;
  /** Vantages where the probe means something. */
  vantages: readonly Vantage[];
  /**
   * Emits observations through `ctx.emit` and resolves when done. Throwing or
   * overrunning the deadline is turned into an `error` observation by the
   * runner; a probe never needs to catch just to stay alive.
   */
  run(ctx: ProbeContext): Promise<void>;
  /**
   * Opens, before any probe runs, what only root may open (UDP port 68),
   * so that `check --user NAME` can drop root before a single packet from
   * the network is read. Optional; may reject, and the probe then reports
   * the problem from `run` as it would without it.
   */
  prepare?(ctx: PrepareContext): Promise<Prepared | undefined>;
}

export type ProbeOutcome = 'done' | 'timeout' | 'crashed' | 'aborted' | 'skipped';

export type RunEvent =
  | { type: 'run-start'; at: string; probes: ProbeName[]; deadline: number }
  | { type: 'probe-start'; probe: ProbeName; at: string }
  | { type: 'observation'; observation: Observation }
  | { type: 'probe-end'; probe: ProbeName; outcome: ProbeOutcome; durationMs: number }
  | { type: 'run-end'; durationMs: number };

export interface RunResult {
  startedAt: string;
  durationMs: number;
  vantage: Vantage;
  /** Every probe's observations, in the order they were made; skipped probes included. */
  observations: Observation[];
}
