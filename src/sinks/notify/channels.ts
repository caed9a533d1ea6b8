/** A configured channel → its notifier, its stable id and its config with secrets blanked. */
import type { NotifyChannelConfig } from '../../config/schema.js';
import { redactUrl } from '../../shared/redact.js';
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

const HIDDEN = '***';

/** The channel as it may be shown or stored: URL credentials and every token, password and secret blanked. */
export function redactChannel(cfg: NotifyChannelConfig): NotifyChannelConfig {
  const out = { ...cfg, url: redactUrl(cfg.url) } as NotifyChannelConfig & Record<string, unknown>;
  for (const k of ['bearer', 'token', 'hmacSecret'] as const) if (out[k] !== undefined) out[k] = HIDDEN;
  if (out.basic) out.basic = { user: (out.basic as { user: string }).user, password: HIDDEN };
  return out;
}

/** Every secret of a channel, to scrub from an error message before it is shown or stored. */
export function channelSecrets(cfg: NotifyChannelConfig): string[] {
  const u = new URL(cfg.url);
  const c = cfg as Record<string, unknown>;
  return [u.password, decodeURIComponent(u.password), c.bearer, c.token, c.hmacSecret, (c.basic as { password?: string } | undefined)?.password]
    .filter((s): s is string => typeof s === 'string' && s.length >= 3);
}

export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join(HIDDEN);
  return out;
}
