/**
 * What diagnosis produces and every report sink consumes. Findings are the
 * only place verdicts live: observations say what was seen, findings say what
 * it means, what caused it and what to do.
 */
import type { Config } from '../config/resolve.js';
import type { Observation } from '../probes/types.js';
import type { RunStatus } from '../shared/exit-codes.js';

/**
 * - critical: something is broken (exit 2)
 * - warning: degraded or about to break (exit 1)
 * - unknown: could not be judged because its inputs were not observed (exit 3 when nothing worse)
 * - info: worth knowing, changes nothing
 */
export type Severity = 'critical' | 'warning' | 'unknown' | 'info';

/** The stable ids of DESIGN.md; more may be added, none change meaning. */
export type FindingId =
  | 'dhcp-server-missing'
  | 'dhcp-unexpected-server'
  | 'dhcp-bad-options'
  | 'host-moved'
  | 'host-missing'
  | 'ip-conflict'
  | 'gateway-down'
  | 'wan-down'
  | 'dns-server-down'
  | 'dns-server-failing'
  | 'dns-wrong-answer'
  | 'dns-upstream-failing'
  | 'ddns-stale'
  | 'cgnat'
  | 'vpn-service-down'
  | 'vpn-forward-stale'
  | 'vpn-unreachable'
  | (string & {});

export interface Fix {
  title: string;
  /** Ordered, imperative, with the real names and addresses filled in. */
  steps: string[];
  /** A file to write or a command to run, ready to paste. */
  snippet?: { file: string; text: string; language?: string };
}

export interface Finding {
  id: FindingId;
  /** `id{label=value,…}` with labels sorted: identity across runs and the target of explains/suppressedBy. */
  key: string;
  severity: Severity;
  /** True when no other finding explains this one. */
  root: boolean;
  /** One line: what is broken and where. */
  title: string;
  /** The chain in plain words with actual names and addresses. */
  explanation: string;
  /** Who is affected ("devices cannot resolve names"). */
  impact: string;
  labels: Record<string, string>;
  /** Observation ids this finding rests on. */
  evidence: string[];
  /** Keys of findings this one directly explains. */
  explains: string[];
  /** Keys of findings that directly explain this one (empty for roots). */
  suppressedBy: string[];
  /** Most likely to help first. */
  fixes: Fix[];
  /** Steps from the nearest root along explanation edges: 0 for roots, 1 for what a root explains directly… */
  depth?: number;
  /** Keys of the roots this finding ultimately follows from (explanation is transitive); empty for roots. */
  rootKeys?: string[];
  /**
   * True for unknowns that only say a probe was out of this run's scope (left
   * out by --only/--skip, not meant for this vantage, nothing configured for
   * it). They are shown, but never change the run's status.
   */
  outOfScope?: boolean;
}

export interface Diagnosis {
  status: RunStatus;
  /** Roots first (ranked), then explained findings beneath them. */
  findings: Finding[];
}

export type Diagnose = (observations: readonly Observation[], config: Config) => Diagnosis;
