/**
 * Starting and stopping the UI. Commands import this module on demand (it
 * pulls in ink and react, ESM-only with top-level await), so `check` and
 * `--version` never load them.
 */
import { render } from 'ink';
import { App, type ExitReason } from './app.js';
import type { FirstRunFacts, HeaderInfo } from './layout.js';
import type { RunSource } from './source.js';
import { colorWanted } from '../color.js';

export type { RunSource, RunOutcome } from './source.js';
export { replaySource } from './source.js';
export type { FirstRunFacts, HeaderInfo } from './layout.js';

export interface StartOptions {
  source: RunSource;
  info: HeaderInfo;
  refreshMs: number;
  firstRun?: FirstRunFacts;
  auto?: boolean;
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs the UI until the user quits; resolves with why it ended. SIGTERM and
 * SIGHUP close it the same way `q` does, so the running probes are aborted
 * and the terminal is restored.
 */
export async function startTui(opts: StartOptions): Promise<ExitReason> {
  const instance = render(
    <App source={opts.source} info={opts.info} refreshMs={opts.refreshMs} firstRun={opts.firstRun} auto={opts.auto} color={colorWanted(opts.stdout ?? process.stdout, opts.env)} />,
    { stdin: opts.stdin ?? process.stdin, stdout: opts.stdout ?? process.stdout, exitOnCtrlC: true, patchConsole: true },
  );
  const stop = () => instance.unmount();
  process.once('SIGTERM', stop);
  process.once('SIGHUP', stop);
  try {
    const reason = await instance.waitUntilExit();
    return reason === 'init' ? 'init' : 'quit';
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGHUP', stop);
  }
}
