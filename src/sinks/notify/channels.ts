/** A configured channel → its notifier, its stable id and its config with secrets blanked. */
import type { NotifyChannelConfig } from '../../config/schema.js';
import { alertmanagerNotifier } from './alertmanager.js';
import { emailNotifier } from './email.js';
import { ntfyNotifier } from './ntfy.js';
import type { Notifier } from './types.js';
import { webhookNotifier } from './webhook.js';

/** `name`, or `type:host` (stable when the list is reordered; outbox entries are kept under it). */
export function channelId(cfg: NotifyChannelConfig): string {
  if (cfg.name) return cfg.name;
  const u = new URL(cfg.url);
  return `${cfg.type}:${u.host}${cfg.type === 'ntfy' ? u.pathname.replace(/\/$/, '') : ''}`;
}

export function createNotifier(cfg: NotifyChannelConfig): Notifier {
  const name = channelId(cfg);
  switch (cfg.type) {
    case 'webhook':
      return webhookNotifier(cfg, name);
    case 'ntfy':
      return ntfyNotifier(cfg, name);
    case 'email':
      return emailNotifier(cfg, name);
    case 'alertmanager':
      return alertmanagerNotifier(cfg, name);
  }
}
