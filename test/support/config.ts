/** A resolved config for unit tests, from YAML, against a fixed pretend machine. */
import { parseConfigText } from '../../src/config/load.js';
import type { MachineFacts } from '../../src/config/machine.js';
import type { Config } from '../../src/config/resolve.js';

export const PRETEND_MACHINE: MachineFacts = {
  defaultInterface: 'eth0',
  gateway: '192.168.1.1',
  resolvers: ['192.168.1.10'],
  interfaces: { eth0: { address: '192.168.1.50', prefix: 24, mac: 'dc:a6:32:00:00:50' } },
};

export function configFrom(yaml = '', machine: MachineFacts = PRETEND_MACHINE): Config {
  return parseConfigText(yaml, { file: 'test.yaml', machine, env: { HOME: '/tmp/netdoctor-test-home' } });
}
