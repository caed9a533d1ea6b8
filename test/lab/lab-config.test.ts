/**
 * `netdoctor lab config` describes the lab: it loads with netdoctor's own
 * config loader and says what the lab's address plan says. No root needed.
 */
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { labConfigYaml } from '../../src/lab/config-yaml.js';
import { FAULT_NAMES, addFaults, checkFaultNames, worldFor, HEALTHY } from '../../src/lab/faults.js';
import { DHCP_CLIENTS, linkLocalFor } from '../../src/lab/topology.js';
import { wireName } from '../../src/lab/servers.js';

// The machine as the client node sees it once DHCP is done.
const CLIENT_MACHINE = {
  defaultInterface: 'eth0',
  gateway: '192.168.1.1',
  resolvers: ['192.168.1.10'],
  interfaces: { eth0: { address: '192.168.1.50', prefix: 24, mac: 'dc:a6:32:00:00:99' } },
};

describe('lab config (netdoctor lab config)', () => {
  const config = parseConfigText(labConfigYaml('/run/netdoctor-lab/nd'), { file: 'lab.yaml', machine: CLIENT_MACHINE, env: { HOME: '/nonexistent' } });

  it('loads with the config loader and describes the LAN, the Pis and the router', () => {
    expect(config.interface).toBe('eth0');
    expect(config.subnet?.cidr).toBe('192.168.1.0/24');
    expect(config.hosts).toEqual([
      { name: 'pi-dns', mac: 'b8:27:eb:00:00:10', ip: '192.168.1.10', roles: ['dns'] },
      { name: 'pi-vpn', mac: 'b8:27:eb:00:00:20', ip: '192.168.1.20', roles: ['vpn'] },
    ]);
    expect(config.router).toEqual({ ip: '192.168.1.1', wanIp: '203.0.113.10', dnsServer: '192.168.1.10', forwards: [{ proto: 'udp', port: 1194, to: '192.168.1.20' }], upnp: true });
    expect(config.dhcp.servers).toEqual(['192.168.1.1']);
    expect(config.source.fromMachine).toEqual([]);
  });

  it('describes DNS, the WAN, DDNS and the VPN as the lab serves them', () => {
    expect(config.dns).toEqual({ servers: ['192.168.1.10'], records: { 'pi-vpn.home': '192.168.1.20', 'pi-dns.home': '192.168.1.10' }, external: ['example.com'] });
    expect(config.wan.targets).toEqual(['203.0.113.1', '203.0.113.53']);
    expect(config.ddns).toMatchObject({ hostname: 'home.dyn.example.net', resolvers: ['203.0.113.53'], publicIp: ['http://203.0.113.1/'] });
    expect(config.ddns.ddclientCache).toBeUndefined();
    expect(config.vpn).toMatchObject({ host: 'pi-vpn', proto: 'udp', port: 1194, publicName: 'home.dyn.example.net' });
    expect(config.graphite).toBeUndefined();
    expect(config.history.path).toBe('/run/netdoctor-lab/nd/history.db');
  });

  it('matches the reservations the router hands out', () => {
    for (const h of config.hosts) expect(DHCP_CLIENTS[h.name as 'pi-dns' | 'pi-vpn']).toMatchObject({ mac: h.mac, ip: h.ip });
  });
});

describe('lab faults (pure parts)', () => {
  it('rejects an unknown fault with a did-you-mean and the list', () => {
    expect(() => checkFaultNames(['dns-dwn'])).toThrow(/"dns-dwn" is not a lab fault \(did you mean "dns-down"\?\); faults are: unplugged-pi, /);
    expect(checkFaultNames([...FAULT_NAMES])).toHaveLength(9);
  });

  it('lets the later of unplugged-pi and reservations-lost decide the router DHCP', () => {
    expect(worldFor(['unplugged-pi']).routerDhcp).toBe('off');
    expect(worldFor(['unplugged-pi', 'reservations-lost']).routerDhcp).toBe('no-reservations');
    expect(worldFor(addFaults(['reservations-lost', 'dns-down'], ['unplugged-pi'])).routerDhcp).toBe('off');
    expect(worldFor([])).toEqual(HEALTHY);
  });

  it('puts cgnat over ddns-stale whatever the order', () => {
    expect(worldFor(['ddns-stale', 'cgnat']).wan).toBe('cgnat');
    expect(worldFor(['cgnat', 'ddns-stale']).wan).toBe('cgnat');
    expect(worldFor(['ddns-stale', 'isp-down'])).toMatchObject({ wan: 'moved', wanUp: false });
  });

  it('derives a stable link-local address per MAC, outside the reserved /24s of 169.254/16', () => {
    const a = linkLocalFor('b8:27:eb:00:00:10');
    expect(linkLocalFor('B8:27:EB:00:00:10')).toBe(a);
    expect(linkLocalFor('b8:27:eb:00:00:20')).not.toBe(a);
    for (let i = 0; i < 500; i++) {
      const ll = linkLocalFor(`02:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`);
      const third = Number(ll.split('.')[2]);
      expect(third).toBeGreaterThanOrEqual(1);
      expect(third).toBeLessThanOrEqual(254);
    }
  });

  it('writes DNS names in wire format for the NS record', () => {
    expect(wireName('ns1.dyn.example.net')).toBe('036e7331' + '0364796e' + '076578616d706c65' + '036e6574' + '00');
  });
});
