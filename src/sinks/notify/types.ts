/**
 * What a notification channel is given and what it must do. Messages are
 * plain data (the webhook posts them as they are, version 1 of
 * docs/notify.md); wording lives in templates.ts, delivery in one file per
 * channel type.
 */
import type { Severity } from '../../diagnose/types.js';

export type NotifyType = 'webhook' | 'ntfy' | 'email' | 'alertmanager';

export type TransitionKind = 'opened' | 'changed' | 'resolved' | 'test';

/** Version of the message document; bumped only when a field changes meaning or goes away. */
export const MESSAGE_VERSION = 1;

/** A root cause as a message tells it: enough to act on without opening the report. */
export interface MessageCause {
  key: string;
  id: string;
  severity: Severity;
  title: string;
  explanation: string;
  labels: Record<string, string>;
  /** The first fix: its title and first step (usually a command). */
  fix?: { title: string; firstStep?: string };
  /** Titles of the findings that follow from it. */
  followed: string[];
}

export interface NotificationMessage {
  version: typeof MESSAGE_VERSION;
  kind: TransitionKind;
  site: string;
  /** Stable for one incident across its messages: `<site>-<epoch ms of its first bad run>`. */
  incidentId: string;
  /** The run this message was made from (ISO). */
  at: string;
  /** The incident's worst severity so far. */
  severity: 'critical' | 'warning';
  /** The first root cause's title (or, resolved, what it was). */
  title: string;
  startedAt: string;
  /** resolved: the first healthy run. */
  resolvedAt?: string;
  /** resolved: start to recovery, ms. */
  durationMs?: number;
  /** opened/changed: the current root causes, ranked; resolved: the ones it had. */
  causes: MessageCause[];
  /** changed: keys of root causes new since the last message; severity: set when it got worse. */
  change?: { newCauses: string[]; severityFrom?: 'critical' | 'warning' };
  /** resolved: findings that cleared, with the fixes their report proposed. */
  cleared?: Array<{ key: string; title: string; fixes: string[] }>;
  /** opened again within the flapping window of a resolved message. */
  reopened?: boolean;
}

/** One alert of Alertmanager's v2 API, as posted. */
export interface Alert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt?: string;
  generatorURL?: string;
}

/** A channel. `send` throws {@link DeliveryError} (or any error) when the message did not arrive. */
export interface Notifier {
  readonly type: NotifyType;
  /** For stderr and `notify test`: type and host, never a secret. */
  readonly name: string;
  send(message: NotificationMessage, signal: AbortSignal): Promise<void>;
}

/** Alertmanager takes the current alerts every run, not only transitions. */
export interface AlertSender extends Notifier {
  readonly type: 'alertmanager';
  sendAlerts(alerts: readonly Alert[], signal: AbortSignal): Promise<void>;
}

/** A delivery that failed, with a one-line reason free of secrets. */
export class DeliveryError extends Error {
  override name = 'DeliveryError';
}
