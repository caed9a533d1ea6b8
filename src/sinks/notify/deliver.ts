/**
 * One run's notifications: transitions from the stored state, queued in the
 * outbox with the state in one transaction, then every channel's queue tried
 * oldest first, channels in parallel, all under the caller's signal (the
 * run's deadline + 1 s). A channel that fails stops for this run and keeps
 * its queue for the next; its error is returned once, free of secrets.
 * Nothing here changes the check's exit code.
 */
import type { Config } from '../../config/resolve.js';
import type { NotifyStore, OutboxEntry } from '../../history/notify-store.js';
import type { CheckReport } from '../../report/json.js';
import { errorMessage } from '../../shared/errors.js';
import { channelId, createNotifier } from './channels.js';
import { channelSecrets, scrub } from './redact.js';
import { nextNotifyState } from './transitions.js';
import type { Alert, AlertSender, NotificationMessage, Notifier } from './types.js';

type QueuedDelivery = Pick<OutboxEntry, 'channel' | 'kind' | 'payload'>;

export interface ChannelOutcome {
  channel: string;
  type: Notifier['type'];
  /** Deliveries that arrived in this run (messages, or alert batches). */
  delivered: number;
  /** Still queued for the next run. */
  pending: number;
  /** Why the channel failed in this run; absent when it worked or had nothing to send. */
  error?: string;
}

export interface NotifyRunResult {
  messages: NotificationMessage[];
  channels: ChannelOutcome[];
}

/** Computes this run's transitions, queues them and delivers what is queued. */
export async function notifyRun(store: NotifyStore, config: Config, report: CheckReport, signal: AbortSignal): Promise<NotifyRunResult> {
  const channels = config.notify.channels;
  const { state, messages, alerts } = nextNotifyState(store.loadState(), report, config.notify.minIntervalMs);
  const at = Date.parse(report.startedAt);
  const ended = alerts.filter((a) => a.endsAt !== undefined && Date.parse(a.endsAt) <= Math.max(at, Date.parse(a.startsAt)));
  const firing = alerts.filter((a) => !ended.includes(a));
  const queue = channels.flatMap((c): QueuedDelivery[] => {
    const channel = channelId(c);
    if (c.type === 'alertmanager') return ended.length ? [{ channel, kind: 'alerts', payload: JSON.stringify(ended) }] : [];
    return messages.map((m) => ({ channel, kind: 'message', payload: JSON.stringify(m) }));
  });
  store.commit(state, queue, at);
  store.forgetChannelsExcept(channels.map(channelId));
  const outcomes = await Promise.all(channels.map((c) => {
    const notifier = createNotifier(c);
    return drain(store, notifier, channelSecrets(c), notifier.type === 'alertmanager' ? firing : [], signal);
  }));
  return { messages, channels: outcomes };
}

async function drain(store: NotifyStore, notifier: Notifier, secrets: string[], firing: readonly Alert[], signal: AbortSignal): Promise<ChannelOutcome> {
  const queued = store.pending(notifier.name);
  const outcome: ChannelOutcome = { channel: notifier.name, type: notifier.type, delivered: 0, pending: queued.length };
  try {
    if (notifier.type === 'alertmanager') {
      // One POST: every firing alert refreshed, plus every ended alert not yet delivered.
      const alerts = [...firing, ...queued.flatMap((q) => JSON.parse(q.payload) as Alert[])];
      if (alerts.length === 0) return outcome;
      try {
        await (notifier as AlertSender).sendAlerts(alerts, signal);
      } catch (err) {
        store.failed(queued.map((q) => q.id), scrub(errorMessage(err), secrets));
        throw err;
      }
      store.delivered(queued.map((q) => q.id));
      outcome.delivered = 1;
      outcome.pending = 0;
      return outcome;
    }
    for (const q of queued) {
      try {
        await notifier.send(JSON.parse(q.payload) as NotificationMessage, signal);
      } catch (err) {
        store.failed([q.id], scrub(errorMessage(err), secrets));
        throw err;
      }
      store.delivered([q.id]);
      outcome.delivered++;
      outcome.pending--;
    }
  } catch (err) {
    outcome.error = scrub(errorMessage(err), secrets);
  }
  return outcome;
}

/** `notify test`: a sample to each channel, right now, nothing stored. */
export async function sendTest(config: Config, message: NotificationMessage, signal: AbortSignal): Promise<ChannelOutcome[]> {
  return Promise.all(config.notify.channels.map(async (c) => {
    const notifier = createNotifier(c);
    const outcome: ChannelOutcome = { channel: notifier.name, type: notifier.type, delivered: 0, pending: 0 };
    try {
      await notifier.send(message, signal);
      outcome.delivered = 1;
    } catch (err) {
      outcome.error = scrub(errorMessage(err), channelSecrets(c));
    }
    return outcome;
  }));
}
