/** Whether to paint in colour, one rule for the UI and the plain text (this module imports nothing). */

/** Only on a terminal, and not when NO_COLOR is set to anything non-empty (no-color.org) or the terminal is dumb. */
export function colorWanted(stream: { isTTY?: boolean } = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && !(env.NO_COLOR !== undefined && env.NO_COLOR !== '') && env.TERM !== 'dumb';
}
