/**
 * `netdoctor check` end to end, the way cron runs it: the built CLI inside
 * the lab's client node, against the healthy network and each named fault.
 * The text names the right root cause, `--json` has the documented shape, and
 * the exit code follows the monitoring-plugins convention.
 */
import { expect, it } from 'vitest';
import { checkReportSchema, rootKeys, type CheckJson } from '../support/check-json.js';
import { FAULT_ROOTS as FAULTS } from '../support/fault-roots.js';
import { describeLab, type TestLab } from '../support/lab.js';

async function check(lab: TestLab, args: string[] = [], node: 'client' | 'vps' = 'client'): Promise<{ code: number; json: CheckJson; stderr: string }> {
  const r = await lab.runNetdoctor(node, ['check', '--json', '--no-history', ...args], { timeoutMs: 30_000 });
  const parsed = checkReportSchema.safeParse(JSON.parse(r.stdout));
  if (!parsed.success) throw new Error(`check --json does not have the documented shape:\n${parsed.error.message}`);
  return { code: r.code, json: parsed.data, stderr: r.stderr };
}


describeLab('netdoctor check in the lab', (lab) => {
  it('healthy: exit 0, no findings, every probe ran', async () => {
    const { code, json } = await check(lab());
    expect(json.findings.map((f) => f.key)).toEqual([]);
    expect([code, json.status]).toEqual([0, 'ok']);
    expect(new Set(json.observations.map((o) => o.probe))).toEqual(new Set(['dhcp', 'hosts', 'wan', 'dns', 'vpn', 'ddns', 'router']));
    expect(json.observations.filter((o) => o.status === 'error')).toEqual([]);
    // The lab has no ddclient: the only thing allowed to be skipped is what the config does not ask for.
    expect(json.observations.filter((o) => o.status === 'skipped').map((o) => o.reason)).toEqual(['not-configured']);
  });

  it('healthy, as text: one OK line, exit 0; --quiet prints nothing', async () => {
    const text = await lab().runNetdoctor('client', ['check', '--no-history'], { timeoutMs: 30_000 });
    expect(text.code).toBe(0);
    // Nagios shows the first line; after ' | ' comes the perfdata PNP4Nagios/Icinga graph.
    const [status, perfdata] = text.stdout.split('\n')[0].split(' | ');
    expect(status).toBe('OK: nothing wrong found');
    expect(perfdata).toMatch(/^duration=\d+(\.\d+)?s;;;0 findings_critical=0;;;0 /);
    const quiet = await lab().runNetdoctor('client', ['check', '--quiet', '--no-history'], { timeoutMs: 30_000 });
    expect([quiet.code, quiet.stdout]).toEqual([0, '']);
  });

  for (const { fault, code, roots } of FAULTS) {
    it(`${fault}: the right root cause and exit ${code}`, async () => {
      await lab().fault(fault);
      try {
        const r = await check(lab());
        roots(rootKeys(r.json));
        expect(r.code).toBe(code);
        const text = await lab().runNetdoctor('client', ['check', '--no-history'], { timeoutMs: 30_000 });
        expect(text.code).toBe(code);
        expect(text.stdout.split('\n')[0]).toMatch(code === 1 ? /^WARNING: / : /^CRITICAL: /);
        // The text leads with the root cause's title, and its first fix.
        const firstRoot = r.json.findings.find((f) => f.root && f.severity !== 'unknown')!;
        // The text wraps at 80 columns; compare the words.
        const words = (t: string) => t.replace(/\s+/g, ' ');
        expect(words(text.stdout)).toContain(words(firstRoot.title));
        expect(text.stdout).toMatch(/Fix: /);
      } finally {
        await lab().heal();
      }
    });
  }

  it('the run stays within its deadline even with everything down', async () => {
    await lab().fault('isp-down', 'dns-down', 'vpn-down', 'unplugged-pi');
    try {
      const t0 = Date.now();
      const r = await check(lab(), ['--deadline', '8s']);
      // Wall time as cron sees it: the deadline, plus Node's start-up and the sinks, with room for a loaded machine.
      expect(Date.now() - t0).toBeLessThan(8000 + 4000);
      expect(r.json.durationMs).toBeLessThanOrEqual(8000 + 500);
      expect(r.code).toBe(2);
    } finally {
      await lab().heal();
    }
  });

  it('--only and --skip: unselected probes are recorded as skipped, their rules unknown, not healthy', async () => {
    const { json, code } = await check(lab(), ['--only', 'dns,wan']);
    const skipped = json.observations.filter((o) => o.status === 'skipped').map((o) => o.probe).sort();
    expect(skipped).toEqual(['ddns', 'dhcp', 'hosts', 'router', 'vpn']);
    expect(code).toBe(0); // a deliberate --only is no reason to page anyone
    expect(json.findings.filter((f) => f.severity === 'unknown').length).toBeGreaterThan(0);
  });

  it('outside vantage from the VPS: healthy, then ddns-stale makes the VPN unreachable by name', async () => {
    const healthy = await check(lab(), ['--vantage', 'outside'], 'vps');
    expect(healthy.json.vantage).toBe('outside');
    expect(rootKeys(healthy.json)).toEqual([]);
    await lab().fault('ddns-stale');
    try {
      const stale = await check(lab(), ['--vantage', 'outside'], 'vps');
      expect(rootKeys(stale.json).join(' ')).toMatch(/vpn-unreachable\{name=home\.dyn\.example\.net\}|ddns-stale/);
      expect(stale.code).toBeGreaterThanOrEqual(1);
    } finally {
      await lab().heal();
    }
  });
});
