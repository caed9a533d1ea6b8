/**
 * The words of every message, apart from when and where they are sent:
 * a subject line and a plain-text body (e-mail, ntfy), ntfy's priority and
 * tags, and the sample `notify test` sends.
 */
import { formatDuration } from '../../shared/duration.js';
import { MESSAGE_VERSION, type NotificationMessage } from './types.js';

const VERB: Record<NotificationMessage['kind'], string> = { opened: 'DOWN', changed: 'CHANGED', resolved: 'RESOLVED', test: 'TEST' };

/** `[home] DOWN: No DHCP server answers on eth0`. */
export function subjectOf(m: NotificationMessage): string {
  const verb = m.kind === 'opened' && m.reopened ? 'DOWN AGAIN' : m.kind === 'opened' && m.severity === 'warning' ? 'WARNING' : VERB[m.kind];
  return `[${m.site}] ${verb}: ${m.title}`;
}

/** The plain-text body: what is wrong, what followed, the first fix; or how long it lasted and what cleared. */
export function bodyOf(m: NotificationMessage): string {
  const out: string[] = [];
  if (m.kind === 'test') {
    out.push('This is a test message from netdoctor: this channel works.', '', `Site: ${m.site}`);
    return out.join('\n');
  }
  if (m.kind === 'resolved') {
    out.push(`Resolved after ${formatDuration(m.durationMs, { spaced: true })} (from ${m.startedAt} to ${m.resolvedAt}).`);
    const cleared = m.cleared ?? [];
    if (cleared.length > 0) {
      out.push('', 'Cleared:');
      for (const c of cleared) out.push(`  - ${c.title}${c.fixes[0] ? ` (fix: ${c.fixes[0]})` : ''}`);
    }
  } else {
    if (m.kind === 'changed') {
      const what = [m.change?.severityFrom ? `severity ${m.change.severityFrom} → ${m.severity}` : '', m.change?.newCauses.length ? 'a new root cause' : ''].filter(Boolean).join(' and ');
      out.push(`The incident changed: ${what}.`, '');
    }
    out.push(`${m.severity.toUpperCase()} since ${m.startedAt}.`);
    for (const c of m.causes) {
      out.push('', `Root cause: ${c.title}`, c.explanation);
      if (c.followed.length > 0) out.push(`What followed: ${c.followed.join('; ')}`);
      if (c.fix) out.push(`Fix: ${c.fix.title}`, ...(c.fix.firstStep ? [`  ${c.fix.firstStep}`] : []));
    }
  }
  out.push('', `Site: ${m.site} · incident ${m.incidentId} · netdoctor report --last for the whole story`);
  return out.join('\n');
}

/** ntfy priority 1-5: critical openings ring (5), warnings are default (3), the rest low (2). */
export function ntfyPriorityOf(m: NotificationMessage): number {
  if (m.kind === 'resolved' || m.kind === 'test') return 2;
  return m.severity === 'critical' ? 5 : 3;
}

/** ntfy tags (emoji short codes are shown as icons). */
export function ntfyTagsOf(m: NotificationMessage): string[] {
  const icon = m.kind === 'resolved' ? 'white_check_mark' : m.kind === 'test' ? 'test_tube' : m.severity === 'critical' ? 'rotating_light' : 'warning';
  return [icon, 'netdoctor', m.site];
}

/** What `notify test` sends: a message of kind test, shaped like a real opened one. */
export function sampleMessage(site: string, now = new Date()): NotificationMessage {
  const at = now.toISOString();
  return {
    version: MESSAGE_VERSION,
    kind: 'test',
    site,
    incidentId: `${site}-test`,
    at,
    severity: 'warning',
    title: 'netdoctor test message',
    startedAt: at,
    causes: [],
  };
}
