/** `webhook`: POSTs the message document (docs/notify.md, version 1) as JSON, optionally signed with HMAC-SHA256. */
import { createHmac } from 'node:crypto';
import type { NotifyChannelConfig } from '../../config/schema.js';
import { authHeaders, post } from './http.js';
import type { NotificationMessage, Notifier } from './types.js';

type WebhookConfig = Extract<NotifyChannelConfig, { type: 'webhook' }>;

/** `sha256=<hex>` of the exact body bytes, as GitHub-style receivers check it. */
export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export function webhookNotifier(cfg: WebhookConfig, name: string): Notifier {
  return {
    type: 'webhook',
    name,
    async send(message: NotificationMessage, signal: AbortSignal) {
      const body = JSON.stringify(message);
      await post(cfg.url, body, {
        'content-type': 'application/json',
        'x-netdoctor-event': message.kind,
        ...authHeaders(cfg),
        ...(cfg.hmacSecret ? { 'x-netdoctor-signature': signature(cfg.hmacSecret, body) } : {}),
      }, signal);
    },
  };
}
