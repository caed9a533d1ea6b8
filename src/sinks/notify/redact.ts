/** Channel configs as they may be shown or stored, and error messages scrubbed of a channel's secrets. */
import type { NotifyChannelConfig } from '../../config/schema.js';
import { redactUrl } from '../../shared/redact.js';

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
