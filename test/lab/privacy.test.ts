/**
 * No request to any outside service unless the config names it (issue 21,
 * item 3): with no ddns: (nor wan:) section the ddns probe is "not checked" and the
 * client sends nothing out through the router's WAN, counted by an iptables
 * rule in the router. With the section, the same count rises (the test can fail).
 */
import { expect, it } from 'vitest';
import { checkReportSchema } from '../support/check-json.js';
import { describeLab, type TestLab } from '../support/lab.js';

const CLIENT = '192.168.1.50';
const COUNTER = ['FORWARD', '-s', CLIENT, '-o', 'wan0', '-m', 'comment', '--comment', 'netdoctor-privacy-test'];

/** Packets from the client that the router forwarded out of its WAN side since the rule was put in. */
async function wanPackets(lab: TestLab): Promise<number> {
  const r = await lab.exec('router', ['iptables', '-w', '-nvxL', 'FORWARD']);
  const line = r.stdout.split('\n').find((l) => l.includes('netdoctor-privacy-test'));
  if (!line) throw new Error(`counter rule missing in the router: ${r.stdout}${r.stderr}`);
  return Number(line.trim().split(/\s+/)[0]);
}

/** The lab's config without its ddns: and wan: sections and without the VPN's public name: nothing outside named. */
function withoutOutside(yaml: string): string {
  return yaml.replace(/^ddns:\n(?: {2}.*\n)+/m, '').replace(/^wan:\n(?: {2}.*\n)+/m, '').replace(/, publicName: [^ }]+/, '');
}

async function check(lab: TestLab, yaml: string, args: string[]) {
  const config = lab.writeConfig(yaml);
  const r = await lab.runNetdoctor('client', ['check', '--json', '--no-history', '--no-graphite', '--config', config, ...args], { timeoutMs: 30_000 });
  const parsed = checkReportSchema.safeParse(JSON.parse(r.stdout));
  if (!parsed.success) throw new Error(`check --json does not have the documented shape:\n${parsed.error.message}\n${r.stderr}`);
  // The schema strips keys it does not list, such as a finding's outOfScope: keep the raw findings too.
  return { ...parsed.data, raw: JSON.parse(r.stdout) as { findings: Array<{ key: string; outOfScope?: boolean }> } };
}

describeLab('no outside request unless configured', (lab) => {
  it('no ddns: or wan: section: the ddns probe is not checked, and nothing from the client leaves through the WAN', async () => {
    const yaml = withoutOutside(lab().configYaml());
    expect(yaml).not.toMatch(/^ddns:|^wan:|publicIp|publicName/m);
    expect((await lab().exec('router', ['iptables', '-w', '-I', ...COUNTER])).code).toBe(0);
    try {
      const json = await check(lab(), yaml, []);
      const ddns = json.observations.filter((o) => o.probe === 'ddns');
      expect(ddns.map((o) => [o.check, o.status, o.reason])).toEqual([['probe', 'skipped', 'not-configured']]);
      // Shown as "not checked" (out of scope, never counted), not as a problem.
      expect(json.raw.findings.filter((f) => f.key.startsWith('ddns-')).map((f) => [f.key, f.outOfScope])).toEqual([['ddns-unknown{}', true]]);
      expect(json.status).not.toBe('unknown');
      expect(await wanPackets(lab())).toBe(0);

      // The same run with the lab's ddns: section asks the lab's "internet": the counter sees it.
      await check(lab(), lab().configYaml(), ['--only', 'ddns']);
      expect(await wanPackets(lab())).toBeGreaterThan(0);
    } finally {
      await lab().exec('router', ['iptables', '-w', '-D', ...COUNTER]);
    }
  });
});
