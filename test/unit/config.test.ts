import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { loadConfig, parseConfigText } from '../../src/config/load.js';
import type { MachineFacts } from '../../src/config/machine.js';
import { parseProcNetRoute, parseResolvConf } from '../../src/config/machine.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { main } from '../../src/program.js';
import { ConfigError } from '../../src/shared/errors.js';

const machine: MachineFacts = {
  defaultInterface: 'eth0',
  gateway: '192.168.1.1',
  resolvers: ['192.168.1.10'],
  interfaces: { eth0: { address: '192.168.1.50', prefix: 24, mac: 'dc:a6:32:00:00:50' } },
};

const GOOD = `site: home
interface: eth0
subnet: 192.168.1.0/24
hosts:
  - { name: pi-dns, mac: "b8:27:eb:00:00:10", ip: 192.168.1.10, roles: [dns] }
  - { name: pi-vpn, mac: "B8-27-EB-00-00-20", ip: 192.168.1.20, roles: [vpn] }
router:
  ip: 192.168.1.1
  dnsServer: 192.168.1.10
  forwards: [{ proto: udp, port: 1194, to: 192.168.1.20 }]
dhcp:
  servers: [192.168.1.1]
  window: 2s
dns:
  servers: [192.168.1.10]
  records: { pi-vpn.home: 192.168.1.20 }
  external: [example.com]
wan:
  targets: [1.1.1.1]
ddns:
  hostname: home.dyn.example.net
  resolvers: [1.1.1.1]
  publicIp: [https://api.ipify.org]
  ddclientCache: /var/cache/ddclient/ddclient.cache
vpn: { host: pi-vpn, proto: udp, port: 1194, publicName: home.dyn.example.net }
graphite: { url: "tcp://graphite.home:2003", prefix: netdoctor.home }
history: { path: ~/.local/state/netdoctor/history.db }
`;

function parse(text: string) {
  return parseConfigText(text, { file: 'netdoctor.yaml', machine, env: { HOME: '/home/pi' } });
}

function issuesOf(text: string): ConfigError {
  try {
    parse(text);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('config: a valid file', () => {
  it('parses DESIGN.md example into typed config', () => {
    const cfg = parse(GOOD);
    expect(cfg.site).toBe('home');
    expect(cfg.subnet?.cidr).toBe('192.168.1.0/24');
    expect(cfg.hosts[1].mac).toBe('b8:27:eb:00:00:20'); // normalised
    expect(cfg.dhcp.windowMs).toBe(2000);
    expect(cfg.router.forwards).toEqual([{ proto: 'udp', port: 1194, to: '192.168.1.20' }]);
    expect(cfg.history.path).toBe('/home/pi/.local/state/netdoctor/history.db');
    expect(cfg.graphite).toEqual({ url: 'tcp://graphite.home:2003', prefix: 'netdoctor.home', spoolMax: 100000 });
    expect(cfg.source.fromMachine).toEqual([]);
  });

  it('fills missing keys from the machine and says which', () => {
    const cfg = parse('site: flat\n');
    expect(cfg.interface).toBe('eth0');
    expect(cfg.subnet?.cidr).toBe('192.168.1.0/24');
    expect(cfg.router.ip).toBe('192.168.1.1');
    expect(cfg.dns.servers).toEqual(['192.168.1.10']);
    expect(cfg.dhcp.servers).toEqual(['192.168.1.1']);
    expect(cfg.source.fromMachine).toEqual(['interface', 'subnet', 'router.ip', 'dns.servers']);
    expect(cfg.dhcp.windowMs).toBeGreaterThanOrEqual(4000); // never shorter than dnsmasq's ping check
  });

  it('keeps the history under XDG_STATE_HOME, else /var/lib for root, else ~/.local/state', () => {
    expect(resolveConfig({}, machine, { env: { XDG_STATE_HOME: '/s', HOME: '/home/pi' }, uid: 0 }).history.path).toBe('/s/netdoctor/history.db');
    expect(resolveConfig({}, machine, { env: { HOME: '/root' }, uid: 0 }).history.path).toBe('/var/lib/netdoctor/history.db');
    expect(resolveConfig({}, machine, { env: { HOME: '/home/pi' }, uid: 1000 }).history.path).toBe('/home/pi/.local/state/netdoctor/history.db');
  });

  it('an empty file is all defaults', () => {
    expect(parse('').site).toBe('home');
  });
});

// Each row: the YAML, then what the one message must contain (line, key path, value, and the hint).
const BAD: Array<{ name: string; yaml: string; line: number; path: string; value?: string; says: RegExp; count?: number }> = [
  {
    name: 'MAC with five pairs',
    yaml: 'hosts:\n  - { name: a, mac: "b8:27:eb:00:00:10", ip: 192.168.1.10 }\n  - name: b\n    ip: 192.168.1.11\n    mac: "b8:27:eb:00:10"\n',
    line: 5, path: 'hosts[1].mac', value: '"b8:27:eb:00:10"', says: /is not a MAC address \(expected six hex pairs like b8:27:eb:00:00:10\)/,
  },
  { name: 'IP with an octet over 255', yaml: 'hosts:\n  - name: pi\n    mac: "b8:27:eb:00:00:10"\n    ip: 192.168.1.300\n', line: 4, path: 'hosts[0].ip', value: '"192.168.1.300"', says: /not an IPv4 address/ },
  { name: 'CIDR with prefix 33', yaml: 'site: home\nsubnet: 192.168.1.0/33\n', line: 2, path: 'subnet', value: '"192.168.1.0/33"', says: /not a subnet \(expected .*192\.168\.1\.0\/24\)/ },
  { name: 'unknown top-level key close to a real one', yaml: 'site: home\nhostz: []\n', line: 2, path: 'hostz', says: /not a known key \(did you mean "hosts"\?\)/ },
  { name: 'unknown nested key', yaml: 'hosts:\n  - name: pi\n    mac: "b8:27:eb:00:00:10"\n    ip: 192.168.1.10\n    rolse: [dns]\n', line: 5, path: 'hosts[0].rolse', says: /did you mean "roles"\?.*valid keys here: name, mac, ip, roles/ },
  {
    name: 'duplicate host names',
    yaml: 'hosts:\n  - { name: pi, mac: "b8:27:eb:00:00:10", ip: 192.168.1.10 }\n  - { name: pi, mac: "b8:27:eb:00:00:11", ip: 192.168.1.11 }\n',
    line: 3, path: 'hosts[1].name', value: '"pi"', says: /already used by hosts\[0\]/,
  },
  {
    name: 'forward to an address outside the subnet',
    yaml: 'subnet: 192.168.1.0/24\nrouter:\n  ip: 192.168.1.1\n  forwards:\n    - { proto: udp, port: 1194, to: 10.0.0.20 }\n',
    line: 5, path: 'router.forwards[0].to', value: '"10.0.0.20"', says: /outside the subnet 192\.168\.1\.0\/24/,
  },
  { name: 'YAML syntax error', yaml: 'site: home\nhosts: [ { name: pi\n', line: 3, path: '', says: /is not valid YAML/, count: 2 },
  { name: 'hosts given as a mapping', yaml: 'site: home\nhosts:\n  pi: 192.168.1.10\n', line: 2, path: 'hosts', value: '{"pi":"192.168.1.10"}', says: /is a mapping, expected a list/ },
  { name: 'port out of range', yaml: 'router:\n  forwards:\n    - proto: udp\n      port: 70000\n      to: 192.168.1.20\n', line: 4, path: 'router.forwards[0].port', value: '70000', says: /not a port \(expected 1-65535\)/ },
  { name: 'protocol not udp/tcp', yaml: 'vpn:\n  proto: icmp\n', line: 2, path: 'vpn.proto', value: '"icmp"', says: /expected "udp", "tcp"/ },
  { name: 'a zero deadline', yaml: 'deadline: 0s\n', line: 1, path: 'deadline', value: '"0s"', says: /is too short \(expected at least 1s\)/ },
  { name: 'a refresh that would flood the LAN', yaml: 'tui:\n  refresh: 1s\n', line: 2, path: 'tui.refresh', value: '"1s"', says: /is too short \(expected at least 5s/ },
  { name: 'spoolMax with a fraction', yaml: 'graphite:\n  url: tcp://g:2003\n  spoolMax: 1.5\n', line: 3, path: 'graphite.spoolMax', value: '1.5', says: /is a number, expected a whole number/ },
  { name: 'an interface name that looks like an option', yaml: 'interface: "-eth0"\n', line: 1, path: 'interface', value: '"-eth0"', says: /not a network interface name/ },
  { name: 'deadline not a duration', yaml: 'deadline: fast\n', line: 1, path: 'deadline', value: '"fast"', says: /not a duration \(expected a duration like 500ms/ },
  { name: 'record with a bad address', yaml: 'dns:\n  records:\n    pi-vpn.home: 192.168.1\n', line: 3, path: 'dns.records.pi-vpn.home', value: '"192.168.1"', says: /not an IPv4 address/ },
  { name: 'external name with a space', yaml: 'dns:\n  external: ["exa mple.com"]\n', line: 2, path: 'dns.external[0]', value: '"exa mple.com"', says: /not a host name/ },
  {
    name: 'vpn.host that is not a host',
    yaml: 'hosts:\n  - { name: pi-vpn, mac: "b8:27:eb:00:00:20", ip: 192.168.1.20 }\nvpn:\n  host: pi-vnp\n',
    line: 4, path: 'vpn.host', value: '"pi-vnp"', says: /not the name of a host in hosts \(did you mean "pi-vpn"\?\)/,
  },
  { name: 'graphite over http', yaml: 'graphite:\n  url: http://graphite.home:8080\n', line: 2, path: 'graphite.url', value: '"http://graphite.home:8080"', says: /not a tcp URL \(expected something like tcp:\/\/graphite\.home:2003\)/ },
  { name: 'wan.targets as text', yaml: 'wan:\n  targets: 1.1.1.1\n', line: 2, path: 'wan.targets', value: '"1.1.1.1"', says: /is a string, expected a list/ },
  { name: 'unknown host role', yaml: 'hosts:\n  - name: pi\n    mac: "b8:27:eb:00:00:10"\n    ip: 192.168.1.10\n    roles: [dnz]\n', line: 5, path: 'hosts[0].roles[0]', value: '"dnz"', says: /not one of the allowed values \(expected "dns", "vpn"/ },
  { name: 'duplicate YAML key', yaml: 'site: home\nsite: office\n', line: 2, path: '', says: /not valid YAML: Map keys must be unique/ },
  { name: 'missing required host field', yaml: 'hosts:\n  - name: pi\n    ip: 192.168.1.10\n', line: 2, path: 'hosts[0].mac', says: /is required/ },
  { name: 'a list used as a key', yaml: 'site: home\n? [a, b]\n: 1\n', line: 2, path: '', says: /has a list, mapping or alias as a key/ },
  { name: 'an alias bomb', yaml: 'a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n', line: 0, path: '', says: /is not valid YAML: .*alias/i },
  { name: 'whole file is a list', yaml: '- a\n- b\n', line: 1, path: '', says: /must be a mapping of keys/ },
];

describe('config: bad files name the key, the value and the line', () => {
  it.each(BAD)('$name', ({ yaml, line, path, value, says, count }) => {
    const err = issuesOf(yaml);
    expect(err.issues).toHaveLength(count ?? 1);
    const msg = err.message;
    expect(msg.startsWith(line ? `netdoctor.yaml:${line}: ` : 'netdoctor.yaml: '), msg).toBe(true);
    if (path) expect(msg).toContain(` ${path}`);
    if (value) expect(msg).toContain(value);
    expect(msg).toMatch(says);
  });

  it('reports every problem at once, not just the first', () => {
    const err = issuesOf('site: home\nhostz: []\ndeadline: fast\nwan: { targets: [1.2.3] }\n');
    expect(err.issues.map((i) => i.path).sort()).toEqual(['deadline', 'hostz', 'wan.targets[0]']);
  });

  it.each(BAD)('the CLI exits 3 with the message and no stack trace: $name', async ({ yaml, path }) => {
    const dir = mkdtempSync(join(tmpdir(), 'nd-config-'));
    const file = join(dir, 'netdoctor.yaml');
    writeFileSync(file, yaml);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      // --from-json: should a config ever load here, only a replay happens — never a probe in this machine's own network.
      const replay = new URL('../../fixtures/scenarios/healthy/observations.json', import.meta.url).pathname;
      const code = await main(['check', '--config', file, '--from-json', replay, '--no-history']);
      const text = stderr.mock.calls.map((c) => String(c[0])).join('');
      expect(code).toBe(3);
      expect(text).toContain('netdoctor.yaml:');
      if (path) expect(text).toContain(path);
      expect(text).not.toMatch(/\n\s+at /); // no stack frames
    } finally {
      stderr.mockRestore();
    }
  });

  it('a --config that does not exist is a clear error', () => {
    expect(() => loadConfig({ configPath: '/nonexistent/netdoctor.yaml', machine })).toThrow(/config file does not exist/);
  });
});

describe('config: search order', () => {
  it('prefers ./netdoctor.yaml over the XDG file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nd-search-'));
    const xdg = join(dir, 'xdg');
    mkdirSync(join(xdg, 'netdoctor'), { recursive: true });
    writeFileSync(join(xdg, 'netdoctor', 'config.yaml'), 'site: from-xdg\n');
    expect(loadConfig({ cwd: dir, env: { XDG_CONFIG_HOME: xdg }, machine }).site).toBe('from-xdg');
    writeFileSync(join(dir, 'netdoctor.yaml'), 'site: from-cwd\n');
    expect(loadConfig({ cwd: dir, env: { XDG_CONFIG_HOME: xdg }, machine }).site).toBe('from-cwd');
  });
});

describe('machine facts are read from files, not the network', () => {
  it('finds the default route with the lowest metric', () => {
    const table = [
      'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
      'wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0',
      'eth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0',
      'eth0\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0',
    ].join('\n');
    expect(parseProcNetRoute(table)).toEqual({ interface: 'eth0', gateway: '192.168.1.1' });
  });

  it('reads IPv4 nameservers from resolv.conf', () => {
    expect(parseResolvConf('# x\nnameserver 192.168.1.10\nnameserver ::1\nsearch home\nnameserver 1.1.1.1\n')).toEqual(['192.168.1.10', '1.1.1.1']);
  });
});
