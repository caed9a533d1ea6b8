/**
 * The DDNS probe against the lab: the isp's resolver holds the DDNS record
 * (and the NS of its zone), the isp's HTTP echo tells the caller's address,
 * the router NATs the LAN to its WAN address. Healthy, ddns-stale (the WAN
 * address moves, the record does not), cgnat, from outside, and with a
 * ddclient cache whose config beside it holds a password.
 *
 * Needs dist/ built (`npx tsc -p tsconfig.build.json`).
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { diagnose } from '../../src/diagnose/index.js';
import type { DdclientData, PublicIpData, RecordData } from '../../src/probes/ddns.js';
import type { Observation } from '../../src/probes/types.js';
import { configFrom } from '../support/config.js';
import { describeLab, type TestLab } from '../support/lab.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = join(REPO, 'fixtures', 'ddclient');

const get = <D>(obs: Observation[], check: string) => {
  const o = obs.filter((x) => x.probe === 'ddns' && x.check === check);
  expect(o, `one ${check} in ${JSON.stringify(obs.map((x) => x.summary))}`).toHaveLength(1);
  return o[0] as Observation<D>;
};

const withDdns = (lab: TestLab, lines: string) => lab.configYaml().replace(/^ddns:\n((?: {2}.*\n)+)/m, `ddns:\n$1${lines}`);

/** ddclient's files as a Pi would have them, the config holding the provider password. */
function writeDdclientFiles(lab: TestLab, version: 'pre-3.11' | '3.11'): { cache: string; conf: string } {
  const dir = join(lab.stateDir, 'ddclient', version);
  mkdirSync(dir, { recursive: true });
  const cache = join(dir, 'ddclient.cache');
  const conf = join(dir, 'ddclient.conf');
  copyFileSync(join(FIXTURES, version, 'ddclient.cache'), cache);
  writeFileSync(conf, readFileSync(join(FIXTURES, version, 'ddclient.conf'), 'utf8').replace(/^cache=.*$/m, `cache=${cache}`));
  return { cache, conf };
}

/** Every secret in the fixtures' ddclient files. */
const SECRETS = ['Hunter2-ddns-SECRET', 'comma,in-SECRET,password', 'Tr0ub4dor-SECRET', 'pi-owner', 'members.dyndns.org'];

const RUN_SCRIPT = `
const [root, configPath, ...names] = process.argv.slice(1);
const { loadConfig } = await import(root + 'dist/config/load.js');
const { runProbes } = await import(root + 'dist/probes/runner.js');
const run = [];
for (const n of names) run.push((await import(root + 'dist/probes/' + n + '.js'))[n + 'Probe']);
const config = loadConfig({ configPath });
const r = await runProbes({ config, selection: { run, skipped: [] }, vantage: 'inside', deadlineMs: config.deadlineMs });
process.stdout.write(JSON.stringify(r.observations));
`;

describeLab('ddns probe', (lab) => {
  afterEach(async () => {
    await lab().heal();
  });

  it('healthy: the record at the authoritative server equals the public address; no CGNAT', async () => {
    const obs = await lab().runProbe('client', 'ddns');
    const pub = get<PublicIpData>(obs, 'public-ip');
    expect([pub.status, pub.reason, pub.data!.address, pub.labels.source]).toEqual(['ok', 'found', '203.0.113.10', 'http://203.0.113.1/']);
    const rec = get<RecordData>(obs, 'record');
    expect([rec.subject, rec.status, rec.reason]).toEqual(['home.dyn.example.net', 'ok', 'current']);
    expect(rec.data).toMatchObject({ published: ['203.0.113.10'], actual: '203.0.113.10', resolvers: ['203.0.113.53'], authoritative: true, via: 'resolvers' });
    expect(rec.values.match).toBe(1);
    // Facts only: whether that address is the router's own is the cgnat rule's to say.
    expect(obs.filter((o) => o.check === 'cgnat')).toEqual([]);
    expect(get(obs, 'ddclient').status).toBe('skipped');
  });

  it('without ddns.resolvers, finds the authoritative server through the zone\'s NS (asked via pi-dns)', async () => {
    const yaml = lab().configYaml().replace(/^ {2}resolvers: .*\n/m, '');
    expect(yaml).not.toMatch(/resolvers/);
    const rec = get<RecordData>(await lab().runProbe('client', 'ddns', { configYaml: yaml }), 'record');
    expect([rec.status, rec.reason]).toEqual(['ok', 'current']);
    expect(rec.data).toMatchObject({ via: 'ns', zone: 'dyn.example.net', resolvers: ['203.0.113.53'], authoritative: true });
  });

  it('tries public-address sources in order: a dead one, then one that answers; a dns: source is asked over DNS', async () => {
    const yaml = withDdns(lab(), '').replace(/^ {2}publicIp: .*$/m, '  publicIp: [http://203.0.113.1:8080/, http://203.0.113.1/]');
    const pub = get<PublicIpData>(await lab().runProbe('client', 'ddns', { configYaml: yaml }), 'public-ip');
    expect(pub.data!.address).toBe('203.0.113.10');
    expect(pub.data!.tried).toEqual([{ source: 'http://203.0.113.1:8080/', error: 'connection refused' }, { source: 'http://203.0.113.1/' }]);
    expect(pub.summary).toMatch(/after 1 failed source/);

    // The lab has no what-is-my-IP DNS service; its resolver's DDNS record stands in to show the dns: path works end to end.
    const dnsYaml = yaml.replace(/^ {2}publicIp: .*$/m, '  publicIp: ["dns://203.0.113.53/home.dyn.example.net"]');
    const viaDns = get<PublicIpData>(await lab().runProbe('client', 'ddns', { configYaml: dnsYaml }), 'public-ip');
    expect([viaDns.status, viaDns.data!.address, viaDns.data!.source]).toEqual(['ok', '203.0.113.10', 'dns://203.0.113.53/home.dyn.example.net']);

    const none = yaml.replace(/^ {2}publicIp: .*$/m, '  publicIp: [http://203.0.113.1:8080/]');
    const obs = await lab().runProbe('client', 'ddns', { configYaml: none });
    expect([get(obs, 'public-ip').status, get(obs, 'public-ip').reason]).toEqual(['fail', 'unavailable']);
    // Published but nothing to compare with: not "current", not "stale".
    expect([get(obs, 'record').status, get(obs, 'record').reason]).toEqual(['error', 'no-public-ip']);
  });

  it('ddns-stale: published and actual both reported; ddclient\'s "good" is reported but the record decides; no secret anywhere', async () => {
    await lab().fault('ddns-stale');
    const files = writeDdclientFiles(lab(), 'pre-3.11');
    const yaml = withDdns(lab(), `  ddclientConf: ${files.conf}\n`);
    const obs = await lab().runProbe('client', 'ddns', { configYaml: yaml });

    const rec = get<RecordData>(obs, 'record');
    expect([rec.status, rec.reason]).toEqual(['fail', 'stale']);
    expect(rec.labels).toEqual({ hostname: 'home.dyn.example.net', published: '203.0.113.10', actual: '203.0.113.11' });
    expect(rec.data).toMatchObject({ published: ['203.0.113.10'], actual: '203.0.113.11', authoritative: true });
    expect(rec.values.match).toBe(0);

    const dd = get<DdclientData>(obs, 'ddclient');
    expect([dd.status, dd.reason]).toEqual(['ok', 'read']);
    expect(dd.data).toMatchObject({ path: files.cache, ip: '203.0.113.10', status: 'good', keys: 'ip', mtime: '2025-01-05T10:00:00.000Z', matchesPublished: true, matchesPublic: false });
    expect(dd.values.age_s).toBeGreaterThan(0);
    expect(dd.summary).toMatch(/the public address is now 203\.0\.113\.11/);


    const everything = JSON.stringify(obs);
    for (const secret of SECRETS) expect(everything).not.toContain(secret);
    expect(everything).not.toMatch(/password|login=/i);

    // And end to end, as a user sees it: the --json document (findings, fixes) and the verbose text.
    const configPath = lab().writeConfig(yaml);
    for (const args of [['--json'], ['--verbose']]) {
      const r = await lab().runNetdoctor('client', ['check', '--only', 'ddns', '--config', configPath, ...args]);
      expect(r.code, r.stderr).toBe(1); // warning: the stale record
      const output = r.stdout + r.stderr;
      expect(output).toContain('203.0.113.11');
      for (const secret of SECRETS) expect(output).not.toContain(secret);
    }
  });

  it('a public-IP source URL with a password and a token: used, but only ever shown redacted', async () => {
    const secretUrl = 'http://pi-owner:Url-SECRET-pw@203.0.113.1/?token=Url-SECRET-token';
    const yaml = lab().configYaml().replace('publicIp: [http://203.0.113.1/]', `publicIp: ["${secretUrl}"]`);
    expect(yaml).toContain(secretUrl);
    const obs = await lab().runProbe('client', 'ddns', { configYaml: yaml });
    const pub = get(obs, 'public-ip');
    expect([pub.status, pub.reason]).toEqual(['ok', 'found']);
    expect(pub.labels.source).toBe('http://***:***@203.0.113.1/?***');
    const everything = JSON.stringify(obs);
    expect(everything).not.toContain('Url-SECRET');
    expect(everything).not.toContain('pi-owner');
  });

  it('reads a 3.11 cache (ipv4=, status-ipv4=) given directly, still without secrets', async () => {
    const files = writeDdclientFiles(lab(), '3.11');
    const obs = await lab().runProbe('client', 'ddns', { configYaml: withDdns(lab(), `  ddclientCache: ${files.cache}\n`) });
    const dd = get<DdclientData>(obs, 'ddclient');
    expect(dd.data).toMatchObject({ ip: '203.0.113.10', status: 'good', keys: 'ipv4', version: '3.11.2', matchesPublic: true });
    const everything = JSON.stringify(obs);
    for (const secret of SECRETS) expect(everything).not.toContain(secret);
  });

  it('cgnat: the rule judges it from the wan probe\'s hop past the gateway and the public address the ddns probe found', async () => {
    await lab().fault('cgnat');
    const path = lab().writeConfig(lab().configYaml());
    const r = await lab().exec('client', [process.execPath, '--input-type=module', '-e', RUN_SCRIPT, REPO, path, 'wan', 'ddns'], { timeoutMs: 40_000 });
    expect(r.code, r.stderr).toBe(0);
    const obs = JSON.parse(r.stdout) as Observation[];
    expect(get<PublicIpData>(obs, 'public-ip').data!.address).toBe('203.0.113.99');
    const f = diagnose(obs, configFrom(lab().configYaml())).findings.find((x) => x.id === 'cgnat');
    expect(f?.explanation).toMatch(/first router past your gateway is 100\.64\.0\.1/);
    expect(f?.explanation).toMatch(/203\.0\.113\.99, is not the router's WAN address 203\.0\.113\.10/);
  });

  it('outside (vps): resolves the name and reports what is published; the rest is for inside', async () => {
    const yaml = lab().configYaml().replace(/^dns:\n {2}servers: \[[^\]]*\]/m, 'dns:\n  servers: [203.0.113.53]');
    const obs = await lab().runProbe('vps', 'ddns', { vantage: 'outside', configYaml: yaml });
    const rec = get<RecordData>(obs, 'record');
    expect([rec.status, rec.reason, rec.data!.published]).toEqual(['ok', 'published', ['203.0.113.10']]);
    expect(rec.data!.actual).toBeUndefined();
    for (const check of ['public-ip', 'ddclient']) expect([get(obs, check).status, get(obs, check).reason]).toEqual(['skipped', 'other-vantage']);
  });
});
