/**
 * The starter netdoctor.yaml that `netdoctor init` writes: built from what
 * the machine knows (and an agreed scan), it always loads with the real
 * loader, teaches every key, watches the Pis and the LAN's DNS server, and
 * leaves everything else as commented suggestions.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { discover, scanFindingsOf, scanQuestion, starterYaml, type Discovered } from '../../src/commands/init.js';
import { parseConfigText } from '../../src/config/load.js';
import type { MachineFacts } from '../../src/config/machine.js';
import { configSchema } from '../../src/config/schema.js';
import type { NeighbourEntry } from '../../src/probes/net/neighbours.js';
import { subnetOf } from '../../src/shared/ipv4.js';
import { scenario } from '../tui/support.js';

const WHEN = new Date('2026-11-25T14:00:00Z');

const SEED_MACHINE: MachineFacts = {
  defaultInterface: 'eth0',
  gateway: '192.168.1.1',
  resolvers: ['192.168.1.10'],
  interfaces: { eth0: { address: '192.168.1.50', prefix: 24, mac: 'dc:a6:32:00:00:99' } },
};

const NEIGHBOURS: NeighbourEntry[] = [
  { ip: '192.168.1.1', mac: 'a0:40:a0:00:00:01', state: 'REACHABLE' },
  { ip: '192.168.1.10', mac: 'b8:27:eb:00:00:10', state: 'STALE' },
  { ip: '192.168.1.20', mac: 'b8:27:eb:00:00:20', state: 'REACHABLE' },
  { ip: '192.168.1.33', mac: '3c:22:fb:12:34:56', state: 'STALE' },
  { ip: '192.168.1.40', state: 'FAILED' },
  { ip: '192.168.1.41', mac: '00:11:22:33:44:55', state: 'INCOMPLETE' },
];

async function discovered(machine: MachineFacts = SEED_MACHINE, neighbours: NeighbourEntry[] = NEIGHBOURS, ddclient?: { path: string; host?: string }): Promise<Discovered> {
  return discover({ machine: () => machine, neighbours: async () => neighbours, ddclient: async () => ddclient });
}

function load(yaml: string, machine: MachineFacts = SEED_MACHINE) {
  return parseConfigText(yaml, { file: 'netdoctor.yaml', machine, env: { HOME: '/tmp/netdoctor-test-home' } });
}

describe('the starter file, from what the machine knows', () => {
  it('loads without an error and holds the interface, subnet, router, DHCP server and resolvers read from the machine', async () => {
    const config = load(starterYaml(await discovered(), WHEN));
    expect(config.interface).toBe('eth0');
    expect(config.subnet?.cidr).toBe('192.168.1.0/24');
    expect(config.router.ip).toBe('192.168.1.1');
    expect(config.dhcp.servers).toEqual(['192.168.1.1']);
    expect(config.dns.servers).toEqual(['192.168.1.10']);
    expect(config.source.fromMachine).toEqual([]); // everything came from the file
  });

  it('watches the Raspberry Pis and the LAN DNS server; other devices are commented suggestions; never the router or itself', async () => {
    const yaml = starterYaml(await discovered(), WHEN);
    const config = load(yaml);
    expect(config.hosts).toEqual([
      { name: 'pi-10', mac: 'b8:27:eb:00:00:10', ip: '192.168.1.10', roles: ['dns'] },
      { name: 'pi-20', mac: 'b8:27:eb:00:00:20', ip: '192.168.1.20' },
    ]);
    expect(yaml).toMatch(/^ {2}- \{ name: pi-10, .*# a Raspberry Pi; the DNS server this network uses; seen in the neighbour table \(STALE\)$/m);
    expect(yaml).toMatch(/^ {2}# - \{ name: host-33, mac: "3c:22:fb:12:34:56", ip: 192\.168\.1\.33 \}/m);
    expect(yaml).not.toContain('a0:40:a0:00:00:01'); // the router
    expect(yaml).not.toContain('dc:a6:32:00:00:99'); // this machine
    expect(yaml).not.toContain('192.168.1.40'); // unresolved entries prove nothing
    expect(yaml).not.toContain('00:11:22:33:44:55');
  });

  it('names every top-level key, live or commented, with a comment above each section', async () => {
    const yaml = starterYaml(await discovered(), WHEN);
    for (const key of Object.keys(configSchema.shape)) expect(yaml, key).toMatch(new RegExp(`^(# )?${key}:`, 'm'));
    const lines = yaml.split('\n');
    for (const [i, line] of lines.entries()) {
      if (/^[a-z]+:/.test(line) && !/^(interface|subnet):/.test(line)) expect(lines[i - 1], `comment above ${line}`).toMatch(/^#/);
    }
  });

  it('suggests dns.records and the VPN host from the machines it watches', async () => {
    const yaml = starterYaml(await discovered(), WHEN);
    expect(yaml).toContain('#   pi-10.home: 192.168.1.10');
    expect(yaml).toContain('# vpn: { host: pi-20,');
    expect(yaml).toContain('#   - { proto: udp, port: 1194, to: 192.168.1.20 }');
    // Uncommented as they stand, the suggestions load too.
    const uncommented = yaml
      .replace('  # forwards:', '  forwards:')
      .replace('  #   - { proto: udp', '    - { proto: udp')
      .replace('# vpn: {', 'vpn: {');
    expect(load(uncommented).vpn.host).toBe('pi-20');
  });

  it('takes the DDNS name from ddclient\'s cache when it can read it', async () => {
    const config = load(starterYaml(await discovered(SEED_MACHINE, NEIGHBOURS, { path: '/var/cache/ddclient/ddclient.cache', host: 'home.dyn.example.net' }), WHEN));
    expect(config.ddns.hostname).toBe('home.dyn.example.net');
    expect(config.ddns.ddclientCache).toBe('/var/cache/ddclient/ddclient.cache');
  });

  it('without a default route: the interface and subnet left for the user, still a file that loads', async () => {
    const machine: MachineFacts = { resolvers: [], interfaces: {} };
    const d = await discovered(machine, []);
    const yaml = starterYaml(d, WHEN);
    expect(yaml).toContain('# interface: eth0   # no default route was found');
    expect(load(yaml, machine).interface).toBeUndefined();
    expect(scanQuestion(d)).toBeUndefined();
  });

  it('with only a local stub resolver (systemd-resolved): dns.servers left for the user to fill', async () => {
    const machine = { ...SEED_MACHINE, resolvers: ['127.0.0.53'] };
    const yaml = starterYaml(await discovered(machine), WHEN);
    expect(yaml).toMatch(/# servers: \[192\.168\.1\.10\] +# \/etc\/resolv\.conf has only 127\.0\.0\.53 \(a local stub resolver\)/);
    expect(load(yaml, machine).source.fromMachine).toContain('dns.servers');
  });

  it('always loads, whatever the machine looks like', async () => {
    const octet = fc.integer({ min: 1, max: 254 });
    const ip = fc.tuple(fc.constantFrom(10, 172, 192), octet, octet, octet).map((p) => p.join('.'));
    const mac = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 6, maxLength: 6 }).map((b) => b.map((x) => x.toString(16).padStart(2, '0')).join(':'));
    await fc.assert(
      fc.asyncProperty(
        ip, fc.integer({ min: 8, max: 30 }), fc.option(ip), fc.array(ip, { maxLength: 3 }),
        fc.array(fc.record({ ip, mac, state: fc.constantFrom('REACHABLE', 'STALE', 'DELAY') as fc.Arbitrary<NeighbourEntry['state']> }), { maxLength: 12 }),
        async (address, prefix, gateway, resolvers, neighbours) => {
          const machine: MachineFacts = { defaultInterface: 'eth0', gateway: gateway ?? undefined, resolvers, interfaces: { eth0: { address, prefix, mac: '02:00:00:00:00:01' } } };
          const yaml = starterYaml(await discovered(machine, neighbours), WHEN);
          const config = load(yaml, machine);
          expect(config.subnet?.cidr).toBe(subnetOf(address, prefix).cidr);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('with an agreed scan', () => {
  it('reads what the sweep and the DHCP probe observed (recorded in the lab)', () => {
    const healthy = scenario('healthy').run.observations;
    const found = scanFindingsOf(healthy);
    expect(found.dhcp).toEqual([expect.objectContaining({ serverId: '192.168.1.1', dns: ['192.168.1.10'], router: ['192.168.1.1'] })]);
    expect(found.alive.map((a) => a.mac)).toEqual(expect.arrayContaining(['b8:27:eb:00:00:10', 'b8:27:eb:00:00:20']));
    expect(found.notes).toEqual([]);
    const denied = scanFindingsOf(scenario('no-permission').run.observations);
    expect(denied.notes.join('\n')).toMatch(/^dhcp: .*UDP port 68/);
  });

  it('fills in the DNS server the router hands out, and the hosts the sweep found', async () => {
    const d = await discovered(SEED_MACHINE, []);
    d.scan = scanFindingsOf(scenario('healthy').run.observations);
    const yaml = starterYaml(d, WHEN);
    const config = load(yaml);
    expect(config.router.dnsServer).toBe('192.168.1.10');
    expect(config.dhcp.servers).toEqual(['192.168.1.1']);
    expect(config.hosts.map((h) => [h.name, h.ip])).toEqual([['pi-10', '192.168.1.10'], ['pi-20', '192.168.1.20']]);
    expect(yaml).toContain('and a scan of 192.168.1.0/24 you agreed to');
    expect(yaml).toMatch(/pi-20.*answered the scan/);
  });

  it('allows only the router when a second DHCP server answered too, and names the other', async () => {
    const d = await discovered();
    d.scan = { alive: [], notes: [], dhcp: [{ serverId: '192.168.1.254', router: ['192.168.1.254'], dns: ['192.168.1.254'] }, { serverId: '192.168.1.1', router: ['192.168.1.1'], dns: ['192.168.1.10'] }] };
    const yaml = starterYaml(d, WHEN);
    expect(load(yaml).dhcp.servers).toEqual(['192.168.1.1']);
    expect(yaml).toContain('# also answered the scan: 192.168.1.254 — add it above if it is yours; if not, it is a rogue DHCP server');
    expect(load(yaml).router.dnsServer).toBe('192.168.1.10');
  });

  it('allows the server that answered when the router did not (a Pi handing out addresses)', async () => {
    const d = await discovered();
    d.scan = { alive: [], notes: [], dhcp: [{ serverId: '192.168.1.10', router: ['192.168.1.1'], dns: ['192.168.1.10'] }] };
    expect(load(starterYaml(d, WHEN)).dhcp.servers).toEqual(['192.168.1.10']);
  });

  it('asks to sweep only a subnet it would sweep; a wider one gets the DHCP question alone', async () => {
    expect(scanQuestion(await discovered())).toBe('Scan 192.168.1.0/24 and listen for DHCP servers on eth0 to fill in more?');
    const wide = { ...SEED_MACHINE, interfaces: { eth0: { address: '10.1.2.3', prefix: 16, mac: '02:00:00:00:00:01' } }, gateway: '10.1.0.1' };
    expect(scanQuestion(await discovered(wide, []))).toBe('Listen for DHCP servers on eth0 to fill in more? (10.1.0.0/16 is too wide to sweep)');
  });
});
