/**
 * The wan probe against the lab: the router (NAT, its WAN link), the isp's
 * "internet" (203.0.113.1, .53) and, under the cgnat fault, a carrier NAT
 * between them. Run inside the `client` node; nothing leaves the lab.
 */
import { expect, it } from 'vitest';
import { CGNAT, LAN, WAN } from '../../src/lab/topology.js';
import { SHARED_CGNAT, inSubnet } from '../../src/shared/ipv4.js';
import type { GatewayData, HopData, TargetData, WanSummaryData } from '../../src/probes/wan.js';
import type { Observation } from '../../src/probes/types.js';
import { describeLab, routerMac } from '../support/lab.js';
import { finishedInTime, listObservations } from '../support/observations.js';

function find<D>(obs: Observation[], check: string, subject: string): Observation<D> {
  const o = obs.find((x) => x.check === check && x.subject === subject);
  if (!o) throw new Error(`no ${check} observation for ${subject}; got:\n${listObservations(obs)}`);
  return o as Observation<D>;
}

describeLab('wan probe in the lab', (lab) => {
  it('healthy: gateway and both internet targets answer; the isp is the second hop', async () => {
    const obs = await lab().runProbe('client', 'wan');
    finishedInTime(obs);
    const gw = find<GatewayData>(obs, 'gateway', LAN.router);
    expect(gw).toMatchObject({ status: 'ok', reason: 'reachable', labels: { ip: LAN.router }, values: { loss_pct: 0 } });
    expect(gw.values.rtt_ms).toBeGreaterThan(0);
    expect(gw.data).toMatchObject({ ip: LAN.router, mac: await routerMac(lab()), lossPct: 0 });
    for (const t of [WAN.ispIp, WAN.resolver]) {
      const o = find<TargetData>(obs, 'target', t);
      expect(o, o.summary).toMatchObject({ status: 'ok', reason: 'reachable', values: { loss_pct: 0 }, data: { ip: t, lossPct: 0 } });
      expect(o.data!.rttMs).toBeGreaterThan(0);
    }
    const s = find<WanSummaryData>(obs, 'summary', 'wan');
    expect(s).toMatchObject({ status: 'ok', reason: 'up', values: { reachable: 2, targets: 2 }, data: { reachable: [WAN.ispIp, WAN.resolver], unreachable: [] } });
    // The first target is itself two hops away (client → router → isp), so it answers the TTL-2 echo.
    const hop = find<HopData>(obs, 'hop', '2');
    expect(hop).toMatchObject({ status: 'ok', reason: 'found', data: { ttl: 2, address: WAN.ispIp, reachedTarget: true } });
  });

  it('isp-down: the gateway still answers, the internet does not, and the router says why; within a short deadline', async () => {
    await lab().fault('isp-down');
    try {
      const started = Date.now();
      const obs = await lab().runProbe('client', 'wan', { deadlineMs: 3000 });
      expect(Date.now() - started).toBeLessThan(15_000);
      finishedInTime(obs);
      expect(find(obs, 'gateway', LAN.router)).toMatchObject({ status: 'ok', reason: 'reachable' });
      for (const t of [WAN.ispIp, WAN.resolver]) {
        const o = find<TargetData>(obs, 'target', t);
        expect(o, o.summary).toMatchObject({ status: 'fail', reason: 'unreachable', values: { loss_pct: 100 } });
      }
      // The router has no route out: it answers for the internet with "net unreachable" (rate-limited, so for at least one).
      expect(obs.filter((o) => o.check === 'target').map((o) => (o.data as TargetData).icmpError ?? '').join(' ')).toMatch(/Destination Net Unreachable from 192\.168\.1\.1/);
      const s = find<WanSummaryData>(obs, 'summary', 'wan');
      expect(s).toMatchObject({ status: 'fail', reason: 'down', values: { reachable: 0, targets: 2 }, data: { reachable: [], unreachable: [WAN.ispIp, WAN.resolver] } });
      expect(s.summary).toMatch(/though the gateway 192\.168\.1\.1 does/);
      expect(find(obs, 'hop', '2')).toMatchObject({ status: 'fail', reason: 'no-answer' });
    } finally {
      await lab().heal();
    }
  });

  it('cgnat: the internet still answers, but the hop past the gateway is in 100.64.0.0/10', async () => {
    await lab().fault('cgnat');
    try {
      const obs = await lab().runProbe('client', 'wan');
      finishedInTime(obs);
      expect(find(obs, 'summary', 'wan')).toMatchObject({ status: 'ok', reason: 'up' });
      const hop = find<HopData>(obs, 'hop', '2');
      expect(hop).toMatchObject({ status: 'ok', reason: 'found', data: { ttl: 2, address: CGNAT.gatewayIp, target: WAN.ispIp } });
      expect(hop.data!.reachedTarget).toBeUndefined();
      expect(inSubnet(hop.data!.address!, SHARED_CGNAT)).toBe(true);
    } finally {
      await lab().heal();
    }
  });

  it('no internet targets configured: the gateway is still checked, the rest says which key to set', async () => {
    const obs = await lab().runProbe('client', 'wan', { configYaml: 'interface: eth0\nrouter: { ip: 192.168.1.1 }\nwan: { targets: [] }\n' });
    expect(find(obs, 'gateway', LAN.router)).toMatchObject({ status: 'ok' });
    expect(find(obs, 'summary', 'wan')).toMatchObject({ status: 'skipped', reason: 'not-configured' });
    expect(find(obs, 'hop', '2')).toMatchObject({ status: 'skipped', reason: 'not-configured' });
  });
});
