/**
 * `alertmanager`: POSTs alerts to `/api/v2/alerts`. Each run sends every
 * firing alert (refreshed) and, once, those that ended (endsAt = the run);
 * Alertmanager does routing, grouping, silences and receivers.
 */
import type { NotifyChannelConfig } from '../../config/schema.js';
import { authHeaders, post } from './http.js';
import type { Alert, AlertSender, NotificationMessage } from './types.js';

type AlertmanagerConfig = Extract<NotifyChannelConfig, { type: 'alertmanager' }>;

export function alertmanagerNotifier(cfg: AlertmanagerConfig, name: string): AlertSender {
  const endpoint = new URL('api/v2/alerts', cfg.url.endsWith('/') ? cfg.url : `${cfg.url}/`).toString();
  const sendAlerts = async (alerts: readonly Alert[], signal: AbortSignal) => {
    if (alerts.length === 0) return;
    await post(endpoint, JSON.stringify(alerts), { 'content-type': 'application/json', ...authHeaders(cfg) }, signal);
  };
  return {
    type: 'alertmanager',
    name,
    sendAlerts,
    /** Transitions are Alertmanager's own business; only `notify test` sends a message: one short-lived alert. */
    async send(message: NotificationMessage, signal: AbortSignal) {
      if (message.kind !== 'test') return;
      const now = Date.parse(message.at);
      await sendAlerts([{
        labels: { alertname: 'NetdoctorTest', site: message.site, severity: 'info' },
        annotations: { summary: message.title, description: 'Sent by `netdoctor notify test`; ends by itself in 5 minutes.' },
        startsAt: message.at,
        endsAt: new Date(now + 5 * 60_000).toISOString(),
      }], signal);
    },
  };
}
