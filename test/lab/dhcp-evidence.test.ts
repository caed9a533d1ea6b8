/**
 * A DHCP server is expected only with evidence (issue 21, item 2): the lab's
 * client has a static address; with the router's DHCP stopped and no `dhcp:`
 * in the config, silence is reported but is no root cause. The same silence
 * is a root cause when the config lists a server, or when the client's own
 * address is a dynamic (leased) one.
 */
import { expect, it } from 'vitest';
import { checkReportSchema, rootKeys, type CheckJson } from '../support/check-json.js';
import { describeLab, type TestLab } from '../support/lab.js';

const NO_DHCP_CONFIG = 'site: lab\ninterface: eth0\nsubnet: 192.168.1.0/24\nrouter: { ip: 192.168.1.1 }\n';

async function checkDhcp(lab: TestLab, yaml: string): Promise<{ code: number; json: CheckJson }> {
  const config = lab.writeConfig(yaml);
  const r = await lab.runNetdoctor('client', ['check', '--json', '--no-history', '--no-graphite', '--only', 'dhcp', '--config', config], { timeoutMs: 30_000 });
  const parsed = checkReportSchema.safeParse(JSON.parse(r.stdout));
  if (!parsed.success) throw new Error(`check --json does not have the documented shape:\n${parsed.error.message}\n${r.stderr}`);
  return { code: r.code, json: parsed.data };
}

function dhcpSummary(json: CheckJson) {
  const s = json.observations.find((o) => o.probe === 'dhcp' && o.check === 'summary');
  if (!s) throw new Error(`no dhcp summary in ${JSON.stringify(json.observations)}`);
  return s as typeof s & { data: { addressOrigin: { origin: string; evidence: string } } };
}

describeLab('DHCP silence judged by evidence', (lab) => {
  it('static address, no DHCP server on the segment, no dhcp: in the config: reported, no DHCP root cause', async () => {
    const { code, json } = await checkDhcp(lab(), NO_DHCP_CONFIG);
    const s = dhcpSummary(json);
    expect([s.status, s.reason]).toEqual(['fail', 'no-offer']);
    expect(s.data.addressOrigin.origin).toBe('static');
    expect(s.summary).toMatch(/no DHCP server answered on eth0.*192\.168\.1\.50\/24 on eth0 is permanent/);
    expect(json.findings.filter((f) => f.id.startsWith('dhcp-'))).toEqual([]);
    expect([code, json.status]).toEqual([0, 'ok']);
  });

  it('the same silence with dhcp.servers in the config: dhcp-server-missing is the root cause', async () => {
    const { code, json } = await checkDhcp(lab(), `${NO_DHCP_CONFIG}dhcp: { servers: [192.168.1.1] }\n`);
    expect(rootKeys(json)).toEqual(['dhcp-server-missing{iface=eth0}']);
    expect(code).toBe(2);
  });

  it("the same silence when the client's own address is leased (dynamic): dhcp-server-missing, naming that evidence", async () => {
    const set = (lft: string) => lab().exec('client', ['ip', 'addr', 'change', '192.168.1.50/24', 'dev', 'eth0', 'valid_lft', lft, 'preferred_lft', lft]);
    expect((await set('3600')).code).toBe(0);
    try {
      const { code, json } = await checkDhcp(lab(), NO_DHCP_CONFIG);
      expect(dhcpSummary(json).data.addressOrigin.origin).toBe('dhcp');
      expect(rootKeys(json)).toEqual(['dhcp-server-missing{iface=eth0}']);
      expect(json.findings[0].explanation).toMatch(/this machine's own address came from one: 192\.168\.1\.50\/24 on eth0 is dynamic/);
      expect(code).toBe(2);
    } finally {
      await set('forever');
    }
  });
}, { faults: ['unplugged-pi'] });
