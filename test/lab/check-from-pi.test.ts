/**
 * `netdoctor check` run on the Pis themselves (where people install it): a
 * machine never sees its own MAC in its neighbour table, so the inventory
 * host netdoctor runs on must be found by its own interfaces ("this
 * machine"). Healthy: exit 0, nothing wrong; each fault: the same roots as
 * from the client (test/support/fault-roots.ts), except what only that vantage
 * can see (none today: a Pi left with a link-local address reaches nothing,
 * and its own move to link-local explains that).
 */
import { expect, it } from 'vitest';
import { checkReportSchema, rootKeys, type CheckJson } from '../support/check-json.js';
import { FAULT_ROOTS as FAULTS } from '../support/fault-roots.js';
import { describeLab, type LabNode, type TestLab } from '../support/lab.js';

const PIS = [
  { node: 'pi-dns', host: 'pi-dns', ip: '192.168.1.10' },
  { node: 'pi-vpn', host: 'pi-vpn', ip: '192.168.1.20' },
] as const;

async function check(lab: TestLab, node: LabNode): Promise<{ code: number; json: CheckJson }> {
  const r = await lab.runNetdoctor(node, ['check', '--json', '--no-history'], { timeoutMs: 30_000 });
  const parsed = checkReportSchema.safeParse(JSON.parse(r.stdout));
  if (!parsed.success) throw new Error(`check --json from ${node} does not have the documented shape:\n${parsed.error.message}\n${r.stderr}`);
  return { code: r.code, json: parsed.data };
}


describeLab('netdoctor check on the Pis themselves', (lab) => {
  for (const pi of PIS) {
    it(`healthy, from ${pi.node}: exit 0, nothing wrong, and it knows it is ${pi.host}`, async () => {
      const { code, json } = await check(lab(), pi.node);
      expect(json.findings.map((f) => f.key)).toEqual([]);
      expect([code, json.status]).toEqual([0, 'ok']);
      const self = json.observations.find((o) => o.probe === 'hosts' && o.check === 'self');
      expect(self).toMatchObject({ status: 'ok', reason: 'inventory-host', subject: pi.host });
      const me = json.observations.find((o) => o.check === 'host' && o.subject === pi.host);
      expect(me).toMatchObject({ status: 'ok', reason: 'at-expected', data: { self: true, evidence: 'self', actualIp: pi.ip } });
      const text = await lab().runNetdoctor(pi.node, ['check', '--no-history', '--verbose'], { timeoutMs: 30_000 });
      expect(text.code).toBe(0);
      expect(text.stdout.split('\n')[0].split(' | ')[0]).toBe('OK: nothing wrong found'); // perfdata follows ' | '
      expect(text.stdout).toContain(`${pi.host} (${me!.labels.mac}), this machine, is at ${pi.ip}`);
    });
  }

  it('from the client, nobody is "this machine"', async () => {
    const { json } = await check(lab(), 'client');
    expect(json.observations.find((o) => o.check === 'self')).toMatchObject({ reason: 'not-in-inventory' });
    expect(json.observations.filter((o) => o.check === 'host').map((o) => (o.data as { self?: boolean }).self)).toEqual([undefined, undefined]);
  });

  for (const { fault, code, roots } of FAULTS) {
    it(`${fault}, from pi-dns and pi-vpn: the client's roots and exit ${code}`, async () => {
      await lab().fault(fault);
      try {
        for (const pi of PIS) {
          const r = await check(lab(), pi.node);
          roots(rootKeys(r.json));
          expect(r.code, pi.node).toBe(code);
        }
      } finally {
        await lab().heal();
      }
    });
  }
});
