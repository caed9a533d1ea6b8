/**
 * `ntfy`: publishes to a topic URL. Sent as ntfy's JSON publish to the
 * server's root, so titles need no header encoding.
 */
import type { NotifyChannelConfig } from '../../config/schema.js';
import { authHeaders, post } from './http.js';
import { bodyOf, ntfyPriorityOf, ntfyTagsOf, subjectOf } from './templates.js';
import type { NotificationMessage, Notifier } from './types.js';

type NtfyConfig = Extract<NotifyChannelConfig, { type: 'ntfy' }>;

export function ntfyNotifier(cfg: NtfyConfig, name: string): Notifier {
  const topicUrl = new URL(cfg.url);
  const topic = decodeURIComponent(topicUrl.pathname.replace(/^\/|\/$/g, ''));
  const root = new URL('/', topicUrl);
  root.username = topicUrl.username;
  root.password = topicUrl.password;
  return {
    type: 'ntfy',
    name,
    async send(message: NotificationMessage, signal: AbortSignal) {
      const doc = { topic, title: subjectOf(message), message: bodyOf(message), priority: ntfyPriorityOf(message), tags: ntfyTagsOf(message) };
      await post(root.toString(), JSON.stringify(doc), { 'content-type': 'application/json', ...authHeaders({ bearer: cfg.token }) }, signal);
    },
  };
}
