/**
 * `netdoctor notify test`: a sample message to every configured channel, at
 * once, and one line per channel saying what happened. Nothing is stored.
 * Exit 0 when every channel took it, 2 when any failed, 3 when none is configured.
 */
import { loadConfig } from '../config/load.js';
import { sendTest } from '../sinks/notify/deliver.js';
import { sampleMessage } from '../sinks/notify/templates.js';
import { UserError } from '../shared/errors.js';
import { ExitCode } from '../shared/exit-codes.js';
import { formatDuration } from '../shared/duration.js';

export interface NotifyTestOptions {
  config?: string;
  /** ms for all channels together. */
  timeout?: number;
  json?: boolean;
}

export const DEFAULT_TEST_TIMEOUT_MS = 15_000;

export async function runTest(opts: NotifyTestOptions): Promise<number> {
  const config = loadConfig({ configPath: opts.config });
  if (config.notify.channels.length === 0) {
    throw new UserError(`no notification channel is configured${config.source.file ? ` in ${config.source.file}` : ''}`,
      'Add notify.channels to netdoctor.yaml (see docs/notify.md), e.g.\n  notify:\n    channels:\n      - { type: ntfy, url: https://ntfy.sh/my-netdoctor-topic }');
  }
  const timeoutMs = opts.timeout ?? DEFAULT_TEST_TIMEOUT_MS;
  const started = Date.now();
  const outcomes = await sendTest(config, sampleMessage(config.site), AbortSignal.timeout(timeoutMs));
  const took = formatDuration(Date.now() - started);
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ channels: outcomes.map(({ channel, type, error }) => ({ channel, type, ok: !error, ...(error ? { error } : {}) })) }, null, 2)}\n`);
  } else {
    for (const o of outcomes) process.stdout.write(o.error ? `✖ ${o.channel}: ${o.error}\n` : `✔ ${o.channel}: sent\n`);
    const failed = outcomes.filter((o) => o.error).length;
    process.stdout.write(`${failed ? `${failed} of ${outcomes.length} channels failed` : `all ${outcomes.length} channels took the message`} (${took})\n`);
  }
  return outcomes.some((o) => o.error) ? ExitCode.critical : ExitCode.ok;
}
