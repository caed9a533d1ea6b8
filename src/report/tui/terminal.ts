/**
 * Whether the interactive UI can run, decided before ink is loaded (this
 * module imports nothing, so `tui` uses it without pulling in the UI).
 */

/** ink's own test (is-in-ci): in CI it draws nothing until the app exits, so a live UI would show a blank screen. */
export function inCi(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.CI === '0' || env.CI === 'false') return false;
  return 'CI' in env || 'CONTINUOUS_INTEGRATION' in env || Object.keys(env).some((k) => k.startsWith('CI_'));
}

/** Undefined when the UI can run; otherwise why not, in words. */
export function whyNotInteractive(
  stdin: { isTTY?: boolean } = process.stdin,
  stdout: { isTTY?: boolean } = process.stdout,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (!stdout.isTTY) return 'standard output is not a terminal';
  if (!stdin.isTTY) return 'standard input is not a terminal, so keys cannot be read';
  if (env.TERM === 'dumb') return 'TERM=dumb';
  if (inCi(env)) return 'this looks like a CI job (CI is set), where the UI cannot draw live';
  return undefined;
}
