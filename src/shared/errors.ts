/**
 * Errors the user can act on. The CLI's one top-level catch prints their
 * message as it is (no stack trace) and exits 3 ("unknown"), because a check
 * that could not run says nothing about the network.
 */
export class UserError extends Error {
  override name = 'UserError';
  /** A further sentence or two on what to do; printed under the message. */
  readonly hint?: string;
  constructor(message: string, hint?: string) {
    super(message);
    this.hint = hint;
  }
}

/** Bad command line: unknown flag, bad value, unknown probe name. */
export class UsageError extends UserError {
  override name = 'UsageError';
}

export interface ConfigIssue {
  /** Path of the config file, or undefined for defaults read from the machine. */
  file?: string;
  /** 1-based line in that file, when known. */
  line?: number;
  /** Key path as a user writes it, e.g. `hosts[1].mac`. Empty for the whole file. */
  path: string;
  /** The sentence after the path and value, e.g. `is not a MAC address (…)`. */
  message: string;
  /** The offending value, already rendered for display (quoted strings, JSON otherwise). */
  value?: string;
}

export function formatConfigIssue(issue: ConfigIssue): string {
  const where = issue.file ? `${issue.file}${issue.line ? `:${issue.line}` : ''}: ` : '';
  const what = [issue.path, issue.value].filter((s) => s !== undefined && s !== '').join(' ');
  return `${where}${what ? `${what} ` : ''}${issue.message}`;
}

/** A config file that cannot be read, parsed or validated. Carries every issue found, not just the first. */
export class ConfigError extends UserError {
  override name = 'ConfigError';
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[], hint?: string) {
    super(issues.map(formatConfigIssue).join('\n'), hint);
    this.issues = issues;
  }
}

/** Something netdoctor needs from the machine is missing (a command, a permission). */
export class EnvironmentError extends UserError {
  override name = 'EnvironmentError';
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
