/**
 * The router probe against the lab's real miniupnpd (Debian 2.3.1, UPnP IGD
 * and NAT-PMP/PCP on the LAN bridge): what it answers, that a whole check
 * leaves its mappings as they were (read from nftables and its lease file,
 * not through UPnP), UPnP switched off, and the carrier NAT with the WAN
 * target on the carrier's own box.
 *
 * Needs dist/ built (`npx tsc -p tsconfig.build.json`).
 */
import { readFileSync } from 'node:fs';
import { afterEach, expect, it } from 'vitest';
import { LAB_MAPPINGS, miniupnpdPaths, parseMiniupnpdChain } from '../../src/lab/upnp.js';
import type { HopData } from '../../src/probes/wan.js';
import type { RouterMappingsData, RouterWanData, UpnpData } from '../../src/probes/router.js';
import type { Observation } from '../../src/probes/types.js';
import { checkReportSchema, rootKeys } from '../support/check-json.js';
import { describeLab, type TestLab } from '../support/lab.js';
import { listObservations } from '../support/observations.js';

const get = <D>(obs: Observation[], check: string, subject?: string) => {
  const o = obs.filter((x) => x.probe === 'router' && x.check === check && (subject === undefined || x.subject === subject));
  expect(o, `one router ${check} in\n${listObservations(obs)}`).toHaveLength(1);
  return o[0] as Observation<D>;
};

/** What miniupnpd holds, seen from the router itself: its DNAT rules and its lease file. */
async function mappingsOnRouter(lab: TestLab): Promise<{ rules: string[]; leases: string }> {
  const r = await lab.exec('router', ['nft', 'list', 'chain', 'inet', 'filter', 'prerouting_miniupnpd']);
  expect(r.code, r.stderr).toBe(0);
  return { rules: parseMiniupnpdChain(r.stdout), leases: readFileSync(miniupnpdPaths(lab.stateDir).leases, 'utf8') };
}

async function checkJson(lab: TestLab, configPath?: string) {
  const r = await lab.runNetdoctor('client', ['check', '--json', '--no-history', ...(configPath ? ['--config', configPath] : [])], { timeoutMs: 30_000 });
  return { code: r.code, json: checkReportSchema.parse(JSON.parse(r.stdout)) };
}

describeLab('router probe', (lab) => {
  afterEach(async () => {
    await lab().heal();
  });

  it('healthy: miniupnpd answers UPnP and NAT-PMP; link, mappings and a withheld (TEST-NET) WAN address are reported as facts', async () => {
    const obs = await lab().runProbe('client', 'router');
    const upnp = get<UpnpData>(obs, 'upnp');
    expect([upnp.status, upnp.reason]).toEqual(['ok', 'found']);
    expect(upnp.data).toMatchObject({ location: 'http://192.168.1.1:5000/rootDesc.xml', friendlyName: 'netdoctor lab router', presentationUrl: 'http://192.168.1.1/', serviceType: 'urn:schemas-upnp-org:service:WANIPConnection:2' });
    expect(upnp.values.answer_ms).toBeLessThan(1500);
    // miniupnpd never names a reserved WAN address, and 203.0.113.10 is TEST-NET-3.
    expect(get<RouterWanData>(obs, 'wan-address', 'upnp')).toMatchObject({ status: 'ok', reason: 'withheld' });
    expect(get(obs, 'connection')).toMatchObject({ status: 'ok', reason: 'connected' });
    const m = get<RouterMappingsData>(obs, 'mappings');
    expect(m.data!.complete).toBe(true);
    expect(m.data!.mappings.map((x) => `${x.protocol} ${x.externalPort} ${x.internalClient}:${x.internalPort}`)).toEqual(LAB_MAPPINGS.map((x) => `${x.proto} ${x.port} ${x.to}:${x.toPort}`));
    expect(get(obs, 'nat-pmp')).toMatchObject({ status: 'ok', reason: 'nat-pmp', data: { answer: { protocol: 'nat-pmp', result: 'network-failure' } } });
  });

  it('read-only: a whole check leaves miniupnpd\'s mappings as they were, and sends it no mapping request', async () => {
    const before = await mappingsOnRouter(lab());
    expect(before.rules).toEqual(LAB_MAPPINGS.map((x) => `${x.proto} ${x.port} ${x.to}:${x.toPort}`));
    const logPath = `${lab().stateDir}/logs/router-miniupnpd.log`;
    const logBefore = readFileSync(logPath, 'utf8').length;
    const { code } = await checkJson(lab());
    expect(code).toBe(0);
    expect(await mappingsOnRouter(lab())).toEqual(before);
    const during = readFileSync(logPath, 'utf8').slice(logBefore);
    expect(during).toMatch(/SOAPAction: .*#GetGenericPortMappingEntry/); // it was asked…
    expect(during).not.toMatch(/#(Add|Delete|AddAny)PortMapping|#SetConnectionType|#RequestConnection|#ForceTermination/); // …and nothing changed
  });

  it('upnp-off: one line says so; the rest of the run is unchanged', async () => {
    const healthy = await checkJson(lab());
    await lab().fault('upnp-off');
    const off = await checkJson(lab());
    expect(off.code).toBe(healthy.code);
    expect(off.json.findings.map((f) => f.key)).toEqual(healthy.json.findings.map((f) => f.key));
    const router = off.json.observations.filter((o) => o.probe === 'router');
    expect(router.map((o) => `${o.check} ${o.status}/${o.reason}`)).toEqual(expect.arrayContaining(['upnp skipped/not-offered', 'nat-pmp skipped/not-offered']));
    expect(router.find((o) => o.check === 'upnp')!.summary).toMatch(/^no UPnP gateway answered within 1\.5 s: UPnP is off on the router/);
    const others = (j: typeof off.json) => j.observations.filter((o) => o.probe !== 'router').map((o) => `${o.id} ${o.status}/${o.reason}`).sort();
    expect(others(off.json)).toEqual(others(healthy.json));
  });

  it('cgnat with the WAN target on the carrier\'s box (two hops): CGNAT from the hop towards the public-address service, not "public"', async () => {
    await lab().fault('cgnat');
    // The WAN target is the carrier NAT's own public side: it answers within two hops.
    const path = lab().writeConfig(lab().configYaml().replace(/^ {2}targets: .*$/m, '  targets: [203.0.113.99]'), 'carrier-target.yaml');
    const { code, json } = await checkJson(lab(), path);
    const hops = json.observations.filter((o) => o.probe === 'wan' && o.check === 'hop').map((o) => o.data as HopData);
    expect(hops).toEqual(expect.arrayContaining([
      expect.objectContaining({ target: '203.0.113.99', reachedTarget: true, purpose: 'wan-target' }),
      expect.objectContaining({ target: '203.0.113.1', address: '100.64.0.1', purpose: 'public-ip' }),
    ]));
    expect(rootKeys(json)).toEqual(['cgnat{}']);
    expect(code).toBe(2);
    const f = json.findings.find((x) => x.id === 'cgnat')!;
    expect(f.explanation).toMatch(/first router past your gateway is 100\.64\.0\.1/);
    expect(f.fixes[0].steps[0]).toMatch(/status page \(http:\/\/192\.168\.1\.1\/\)/);
    // The router's own answer is there as a fact: miniupnpd 2.3.1 withholds 100.64.0.10 too.
    expect(json.observations.find((o) => o.probe === 'router' && o.check === 'wan-address')).toMatchObject({ reason: 'withheld' });
  });
});
