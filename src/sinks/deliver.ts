/** Hands a finished run to each sink in turn; a failing sink is reported on stderr and changes neither verdict nor exit code. */
import { errorMessage } from '../shared/errors.js';
import { SinkFailure, type FinishedRun, type Sink } from './types.js';

/** Delivers `run` to every sink in order, then closes them all; never throws. */
export async function deliverToSinks(
  run: FinishedRun,
  sinks: readonly Sink[],
  signal: AbortSignal,
  warn: (line: string) => void = (line) => process.stderr.write(`netdoctor: ${line}\n`),
): Promise<void> {
  try {
    for (const sink of sinks) {
      try {
        await sink.deliver(run, signal);
      } catch (err) {
        for (const line of err instanceof SinkFailure ? err.lines : [`${sink.name}: ${errorMessage(err)}`]) warn(line);
      }
    }
  } finally {
    for (const sink of sinks) {
      try {
        sink.close?.();
      } catch (err) {
        warn(`${sink.name}: ${errorMessage(err)}`);
      }
    }
  }
}
