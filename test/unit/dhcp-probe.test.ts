import { describe, expect, it } from 'vitest';
import type { MachineFacts } from '../../src/config/machine.js';
import { chooseTarget, LIMITED_BROADCAST } from '../../src/probes/dhcp.js';

const machine: MachineFacts = {
  defaultInterface: 'eth0',
  gateway: '192.168.1.1',
  resolvers: [],
  interfaces: {
    eth0: { address: '192.168.1.50', prefix: 24, mac: 'dc:a6:32:00:00:99' },
    eth1: { address: '10.20.30.40', prefix: 22, mac: 'dc:a6:32:00:00:98' },
    wg0: { address: '10.99.0.2', prefix: 32, mac: '00:00:00:00:00:00' },
  },
};
const present = ['lo', 'eth0', 'eth1', 'wg0', 'wlan0'];

describe('chooseTarget: steering the DISCOVER out of the configured interface', () => {
  it("uses 255.255.255.255 on the default route's interface, like any DHCP client", () => {
    expect(chooseTarget('eth0', machine, present)).toEqual({ ok: true, target: LIMITED_BROADCAST, ifaceAddress: '192.168.1.50' });
  });

  it("uses another interface's directed broadcast, which only that interface routes", () => {
    expect(chooseTarget('eth1', machine, present)).toEqual({ ok: true, target: '10.20.31.255', ifaceAddress: '10.20.30.40' });
  });

  it('names what to do when there is no interface, a misspelt one, one without an address, or a point-to-point link', () => {
    const none = chooseTarget(undefined, machine, present);
    expect(none).toMatchObject({ ok: false, reason: 'no-interface' });
    expect(!none.ok && none.summary).toMatch(/set `interface:`/);
    const typo = chooseTarget('eht0', machine, present);
    expect(!typo.ok && typo.summary).toMatch(/"eht0" does not exist \(did you mean "eth0"\?\); interfaces here: lo, eth0/);
    const bare = chooseTarget('wlan0', machine, present);
    expect(!bare.ok && bare.summary).toMatch(/wlan0 has no IPv4 address.*ip addr add 169\.254\.77\.1\/16 dev wlan0/);
    expect(chooseTarget('wg0', machine, present)).toMatchObject({ ok: false, reason: 'unsupported' });
  });
});
