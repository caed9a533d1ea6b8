/** How this machine got its address, from real `ip -j addr` shapes and lease files (issue 21, item 2). */
import { describe, expect, it } from 'vitest';
import { parseAddressOrigin } from '../../src/config/address-origin.js';
import { discover, starterYaml } from '../../src/commands/init.js';
import { parseConfigText } from '../../src/config/load.js';
import type { MachineFacts } from '../../src/config/machine.js';

const link = (addr: Record<string, unknown>) => JSON.stringify([{ ifindex: 2, ifname: 'eth0', addr_info: [{ family: 'inet', local: '192.168.1.50', prefixlen: 24, ...addr }] }]);
const MACHINE: MachineFacts = { defaultInterface: 'eth0', gateway: '192.168.1.1', resolvers: ['192.168.1.10'], interfaces: { eth0: { address: '192.168.1.50', prefix: 24, mac: 'dc:a6:32:00:00:99' } } };

describe('parseAddressOrigin', () => {
  it('a dynamic address (lease lifetime) came from DHCP', () => {
    const o = parseAddressOrigin('eth0', link({ dynamic: true, valid_life_time: 3599, preferred_life_time: 3599 }), new Map());
    expect(o).toMatchObject({ origin: 'dhcp', address: '192.168.1.50' });
    expect(o.evidence).toBe('192.168.1.50/24 on eth0 is dynamic (lease valid 3599 s more): a DHCP client got it');
  });

  it('a permanent address is static, unless a lease file for the interface names it', () => {
    const forever = link({ valid_life_time: 4294967295, preferred_life_time: 4294967295 });
    expect(parseAddressOrigin('eth0', forever, new Map()).origin).toBe('static');
    expect(parseAddressOrigin('eth0', forever, new Map([['/var/lib/dhcpcd/eth0.lease', 'other 192.168.1.77']])).origin).toBe('static');
    const named = parseAddressOrigin('eth0', forever, new Map([['/var/lib/NetworkManager/internal-x-eth0.lease', 'ADDRESS=192.168.1.50\n']]));
    expect(named).toMatchObject({ origin: 'dhcp', evidence: 'the lease file /var/lib/NetworkManager/internal-x-eth0.lease names 192.168.1.50, the address of eth0' });
  });

  it('no IPv4 address, or output that is not JSON: unknown', () => {
    expect(parseAddressOrigin('eth0', '[]', new Map()).origin).toBe('unknown');
    expect(parseAddressOrigin('eth0', 'Device "eth0" does not exist.', new Map()).origin).toBe('unknown');
  });
});

describe('init writes dhcp.servers only with evidence', () => {
  const yamlFor = async (origin: 'dhcp' | 'static') =>
    starterYaml(await discover({
      machine: () => MACHINE, neighbours: async () => [], ddclient: async () => undefined,
      addressOrigin: async () => parseAddressOrigin('eth0', link(origin === 'dhcp' ? { dynamic: true, valid_life_time: 600 } : { valid_life_time: 4294967295 }), new Map()),
    }), new Date('2026-12-01T10:00:00Z'));
  const load = (yaml: string) => parseConfigText(yaml, { file: 'netdoctor.yaml', machine: MACHINE, env: { HOME: '/tmp/netdoctor-test-home' } });

  it('static address, no scan: servers left commented, so silence is no fault', async () => {
    const yaml = await yamlFor('static');
    expect(yaml).toMatch(/# servers: \[192\.168\.1\.1\] +# not set: no scan was made and this machine's address is not from DHCP/);
    expect(load(yaml).dhcp.listed).toBe(false);
  });

  it("leased address, no scan: the gateway is listed, saying why", async () => {
    const yaml = await yamlFor('dhcp');
    expect(yaml).toMatch(/ servers: \[192\.168\.1\.1\] +# this machine's address came from DHCP \(192\.168\.1\.50\/24 on eth0 is dynamic/);
    expect(load(yaml).dhcp.listed).toBe(true);
  });
});
