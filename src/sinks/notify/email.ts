/**
 * `email`: one plain-text message over SMTP (nodemailer). A URL with a
 * password requires STARTTLS (or smtps://): credentials never cross the
 * wire in clear. Bounded by the run's signal: the connection is closed when it fires.
 */
import { readFileSync } from 'node:fs';
import type { NotifyChannelConfig } from '../../config/schema.js';
import { errorMessage } from '../../shared/errors.js';
import { bodyOf, subjectOf } from './templates.js';
import { DeliveryError, type NotificationMessage, type Notifier } from './types.js';

type EmailConfig = Extract<NotifyChannelConfig, { type: 'email' }>;

export function emailNotifier(cfg: EmailConfig, name: string): Notifier {
  const u = new URL(cfg.url);
  const secure = u.protocol === 'smtps:';
  const user = decodeURIComponent(u.username);
  const pass = decodeURIComponent(u.password);
  const where = `${u.hostname}:${u.port || (secure ? 465 : 587)}`;
  return {
    type: 'email',
    name,
    async send(message: NotificationMessage, signal: AbortSignal) {
      let ca: string | undefined;
      if (cfg.ca) {
        try {
          ca = readFileSync(cfg.ca, 'utf8');
        } catch (err) {
          throw new DeliveryError(`cannot read the CA file ${cfg.ca}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`);
        }
      }
      // Loaded on first use: a check without an e-mail channel never pays for nodemailer.
      const { createTransport } = await import('nodemailer');
      const transport = createTransport({
        host: u.hostname,
        port: Number(u.port) || (secure ? 465 : 587),
        secure,
        requireTLS: !secure && pass !== '',
        ...(user ? { auth: { user, pass } } : {}),
        ...(ca ? { tls: { ca } } : {}),
        connectionTimeout: 10_000,
        greetingTimeout: 10_000,
        socketTimeout: 10_000,
        disableFileAccess: true,
        disableUrlAccess: true,
      });
      const onAbort = () => transport.close();
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        if (signal.aborted) throw new Error('aborted');
        await transport.sendMail({ from: cfg.from, to: cfg.to, subject: subjectOf(message), text: bodyOf(message) });
      } catch (err) {
        const reason = signal.aborted ? 'gave up at the run\'s deadline' : smtpReason(err);
        throw new DeliveryError(`smtp://${where}: ${reason}`);
      } finally {
        signal.removeEventListener('abort', onAbort);
        transport.close();
      }
    },
  };
}

/** nodemailer's error in a few words; its messages may quote the server but never our password. */
function smtpReason(err: unknown): string {
  const e = err as { code?: string; responseCode?: number; response?: string; message?: string };
  if (e.code === 'EAUTH') return `authentication refused${e.response ? ` (${e.response.slice(0, 100)})` : ''}`;
  if (e.code === 'ECONNECTION' || e.code === 'ESOCKET') {
    if (/ECONNREFUSED/.test(e.message ?? '')) return 'connection refused';
    if (/ENOTFOUND|EAI_AGAIN/.test(e.message ?? '')) return 'host name does not resolve';
  }
  if (e.code === 'ETLS') return `STARTTLS failed: ${e.message ?? ''}`.trim();
  if (e.code === 'EDNS') return 'host name does not resolve';
  return e.message?.split('\n')[0] ?? String(err);
}
