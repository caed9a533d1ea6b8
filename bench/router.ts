/**
 * The router probe's share of a whole check: how long the router took to
 * answer UPnP (SSDP to the gateway's answer) and NAT-PMP/PCP, and when the
 * router probe was done, against the check's total — with UPnP on, and with
 * it off (the probe then waits out the SSDP window, 1.5 s).
 */
import { median, type BenchLab } from './types.js';

interface Sample { upnpMs?: number; natMs?: number; routerDoneMs: number; totalMs: number }

function sampleOf(stdout: string): Sample | undefined {
  try {
    const j = JSON.parse(stdout) as { startedAt: string; durationMs: number; observations: Array<{ probe: string; check: string; at: string; values: Record<string, number>; data?: { answerMs?: number } }> };
    const r = j.observations.filter((o) => o.probe === 'router');
    if (r.length === 0) return undefined;
    const upnp = r.find((o) => o.check === 'upnp')?.values.answer_ms;
    const nat = r.find((o) => o.check === 'nat-pmp');
    return { upnpMs: upnp, natMs: nat?.values.answer_ms, routerDoneMs: Math.max(...r.map((o) => Date.parse(o.at))) - Date.parse(j.startedAt), totalMs: j.durationMs };
  } catch {
    return undefined;
  }
}

/** Figures for the check benchmark, from `runs` checks with UPnP on and `runs` with the upnp-off fault. */
export async function routerFigures(lab: BenchLab, config: string, runs: number): Promise<Array<{ name: string; value: string }>> {
  const out: Array<{ name: string; value: string }> = [];
  for (const state of ['on', 'off'] as const) {
    await lab.heal();
    if (state === 'off') await lab.fault('upnp-off');
    const samples: Sample[] = [];
    for (let i = 0; i < Math.max(3, runs); i++) {
      const r = await lab.runNetdoctor('client', ['check', '--json', '--no-history', '--config', config], { timeoutMs: 120_000 });
      const s = sampleOf(r.stdout);
      if (s) samples.push(s);
    }
    if (samples.length === 0) continue;
    const m = (f: (s: Sample) => number | undefined) => {
      const v = samples.map(f).filter((x): x is number => x !== undefined);
      return v.length ? median(v) : undefined;
    };
    const done = m((s) => s.routerDoneMs)!;
    const total = m((s) => s.totalMs)!;
    const answers = state === 'on' ? `UPnP answered in ${m((s) => s.upnpMs)} ms, NAT-PMP in ${m((s) => s.natMs)} ms; ` : 'no UPnP/NAT-PMP answer; ';
    out.push({ name: `router probe, UPnP ${state} (median)`, value: `${answers}router probe done at ${Math.round(done)} ms of a ${Math.round(total)} ms check (${Math.round((100 * done) / total)}%)` });
  }
  await lab.heal();
  return out;
}
