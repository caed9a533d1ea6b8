/**
 * The one exit-code table, after the monitoring-plugins convention so that
 * Nagios, Icinga and cron wrappers read netdoctor like any other check.
 */
export const ExitCode = {
  ok: 0,
  warning: 1,
  critical: 2,
  unknown: 3,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Overall status of a run, worst first in {@link statusRank}. */
export type RunStatus = 'ok' | 'warning' | 'critical' | 'unknown';

export function exitCodeFor(status: RunStatus): ExitCodeValue {
  return ExitCode[status];
}
