/** DESIGN.md's `netdoctor check --json` shape, as a schema tests validate real output against. */
import { z } from 'zod';

const observation = z.strictObject({
  id: z.string().min(1),
  probe: z.enum(['dhcp', 'hosts', 'wan', 'dns', 'vpn', 'ddns', 'router']),
  check: z.string().min(1),
  subject: z.string().min(1),
  status: z.enum(['ok', 'fail', 'error', 'skipped']),
  reason: z.string().regex(/^[a-z0-9?-]+$/),
  summary: z.string().min(1),
  labels: z.record(z.string(), z.string()),
  values: z.record(z.string(), z.number()),
  data: z.unknown().optional(),
  durationMs: z.number().nonnegative(),
  at: z.iso.datetime(),
});

const fix = z.strictObject({
  title: z.string().min(1),
  steps: z.array(z.string().min(1)),
  snippet: z.strictObject({ file: z.string().min(1), text: z.string().min(1), language: z.string().optional() }).optional(),
});

const finding = z.object({
  id: z.string().regex(/^[a-z0-9-]+$/),
  key: z.string().regex(/^[a-z0-9-]+\{.*\}$/),
  severity: z.enum(['critical', 'warning', 'unknown', 'info']),
  root: z.boolean(),
  title: z.string().min(1),
  explanation: z.string().min(1),
  impact: z.string(),
  labels: z.record(z.string(), z.string()),
  evidence: z.array(z.string()),
  explains: z.array(z.string()),
  suppressedBy: z.array(z.string()),
  fixes: z.array(fix),
});

export const checkReportSchema = z
  .strictObject({
    netdoctor: z.string().regex(/^\d+\.\d+\.\d+/),
    site: z.string().min(1),
    vantage: z.enum(['inside', 'outside']),
    startedAt: z.iso.datetime(),
    durationMs: z.number().nonnegative(),
    status: z.enum(['ok', 'warning', 'critical', 'unknown']),
    observations: z.array(observation),
    findings: z.array(finding),
    config: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((r, ctx) => {
    const ids = new Set(r.observations.map((o) => o.id));
    const keys = new Set(r.findings.map((f) => f.key));
    for (const f of r.findings) {
      for (const e of f.evidence) if (!ids.has(e)) ctx.addIssue({ code: 'custom', message: `${f.key} cites unknown observation ${e}` });
      for (const k of [...f.explains, ...f.suppressedBy]) if (!keys.has(k)) ctx.addIssue({ code: 'custom', message: `${f.key} refers to unknown finding ${k}` });
      if (f.root !== (f.suppressedBy.length === 0)) ctx.addIssue({ code: 'custom', message: `${f.key}: root must mean "explained by nothing"` });
    }
  });

export type CheckJson = z.infer<typeof checkReportSchema>;

/** Root findings that are real problems (not unknowns), as `id{labels}` keys, sorted. */
export function rootKeys(r: CheckJson): string[] {
  return r.findings.filter((f) => f.root && f.severity !== 'unknown' && f.severity !== 'info').map((f) => f.key).sort();
}
