/** This machine's interfaces from `ip -j addr`, and the host verdict they give (net/self.ts, hosts.ts). */
import { describe, expect, it } from 'vitest';
import { judgeHost, sightingsOf } from '../../src/probes/hosts.js';
import { parseIpAddrJson } from '../../src/probes/net/self.js';

// Real `ip -j addr show` output from the lab's pi-dns (lo trimmed to its essentials), once static, once from udhcpc.
const IP_ADDR = (dynamic: boolean) => JSON.stringify([
  { ifindex: 1, ifname: 'lo', link_type: 'loopback', address: '00:00:00:00:00:00', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }] },
  {
    ifindex: 2, ifname: 'eth0', link_type: 'ether', address: 'B8:27:EB:00:00:10',
    addr_info: [
      { family: 'inet', local: '192.168.1.10', prefixlen: 24, scope: 'global', ...(dynamic ? { dynamic: true, valid_life_time: 43190 } : { valid_life_time: 4294967295 }) },
      { family: 'inet6', local: 'fe80::ba27:ebff:fe00:10', prefixlen: 64 },
    ],
  },
]);

describe('parseIpAddrJson', () => {
  it('keeps ethernet interfaces with their IPv4 addresses, the MAC in lower case, and the DHCP flag with its lease', () => {
    expect(parseIpAddrJson(IP_ADDR(true))).toEqual([{ name: 'eth0', mac: 'b8:27:eb:00:00:10', addresses: [{ ip: '192.168.1.10', prefix: 24, dynamic: true, validLifetimeS: 43190 }] }]);
    expect(parseIpAddrJson(IP_ADDR(false))[0].addresses).toEqual([{ ip: '192.168.1.10', prefix: 24, dynamic: false }]);
  });
});

describe('own interfaces as sightings', () => {
  const PI = { mac: 'b8:27:eb:00:00:10', ip: '192.168.1.10' };
  const self = (ip: string, mac = PI.mac) => sightingsOf([{ ip, mac, state: 'SELF', via: 'self' }]);

  it('the host this machine is: at its address, or moved with it', () => {
    expect(judgeHost(PI, self('192.168.1.10'))).toMatchObject({ reason: 'at-expected', actual: { via: 'self' } });
    expect(judgeHost(PI, self('169.254.0.16'))).toMatchObject({ reason: 'moved', actual: { ip: '169.254.0.16' } });
  });

  it('this machine holding the address with another MAC is a conflict it names as itself', () => {
    expect(judgeHost(PI, self('192.168.1.10', 'dc:a6:32:00:00:99'))).toMatchObject({ reason: 'conflict', conflictMac: 'dc:a6:32:00:00:99', conflictSelf: true });
  });
});
