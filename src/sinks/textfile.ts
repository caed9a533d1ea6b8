/** The Prometheus textfile sink: netdoctor.prom for node_exporter's textfile collector, written atomically. */
import { errorMessage } from '../shared/errors.js';
import { writeTextfile } from './prometheus.js';
import { SinkFailure, type FinishedRun, type Sink } from './types.js';

/** Writes the run's metrics into `dir` (node_exporter's --collector.textfile.directory). */
export class TextfileSink implements Sink {
  readonly name = 'prometheus-textfile';

  constructor(private readonly dir: string) {}

  async deliver(run: FinishedRun): Promise<void> {
    try {
      await writeTextfile(this.dir, run.report);
    } catch (err) {
      throw new SinkFailure([`the Prometheus textfile was not written in ${this.dir}: ${errorMessage(err)}`]);
    }
  }
}
