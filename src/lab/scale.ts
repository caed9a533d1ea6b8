/**
 * The scale lab (`netdoctor lab scale up --devices N`): a busy office LAN
 * rather than the seed's home. Two namespaces joined by one veth pair:
 *
 *   P-scli  eth0 10.44.0.1/22  ── where netdoctor runs
 *   P-sdev  up0 + N macvlan devices d1..dN (bridge mode), each its own MAC
 *           and address from 10.44.0.2 up; d1 and d2 run dnsmasq (two DNS
 *           servers answering A and PTR for the inventory)
 *
 * Macvlans in one namespace are the cheapest way to many MACs: N = 1,000 is
 * built in about a second. arp_ignore=1 makes each device answer ARP only for
 * its own address, with its own MAC. The inventory is the first
 * min(N, 50) devices. See docs/lab.md (scale lab) and docs/benchmarks.md.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../shared/errors.js';
import { waitFor } from '../shared/wait.js';
import { must, run, startDaemon, stopProcesses, type ProcessRecord, type RunResult } from './sys.js';
import { STATE_ROOT } from './topology.js';

export const SCALE = {
  subnet: '10.44.0.0/22',
  clientIp: '10.44.0.1',
  maxDevices: 1000,
  maxInventory: 50,
  domain: 'scale',
  /** What the DNS servers answer for example.com (an address outside the LAN: nothing is sent to it). */
  externalIp: '198.51.100.80',
} as const;

export interface ScaleOptions {
  /** Live devices on the /22 (2-1000). */
  devices: number;
  /** Inventory hosts in the config, the first devices (default min(devices, 50)). */
  inventory?: number;
}

interface ScaleState {
  prefix: string;
  devices: number;
  inventory: number;
  processes: ProcessRecord[];
}

/** The n-th device (1-based): address 10.44.0.1 + n, MAC 02:5c:00:00:hi:lo of that offset. */
export function scaleDevice(n: number): { name: string; ip: string; mac: string } {
  const a = n + 1;
  const hi = a >> 8;
  const lo = a & 255;
  const hex = (v: number) => v.toString(16).padStart(2, '0');
  return { name: `dev-${String(n).padStart(4, '0')}`, ip: `10.44.${hi}.${lo}`, mac: `02:5c:00:00:${hex(hi)}:${hex(lo)}` };
}

export function checkScaleOptions(o: { devices?: number; inventory?: number }): Required<ScaleOptions> {
  const devices = o.devices ?? 100;
  if (!Number.isInteger(devices) || devices < 2 || devices > SCALE.maxDevices) {
    throw new UsageError(`--devices ${devices}: a whole number 2-${SCALE.maxDevices} (two of them are the DNS servers)`);
  }
  const inventory = o.inventory ?? Math.min(devices, SCALE.maxInventory);
  if (!Number.isInteger(inventory) || inventory < 1 || inventory > Math.min(devices, SCALE.maxInventory)) {
    throw new UsageError(`--inventory ${inventory}: a whole number 1-${Math.min(devices, SCALE.maxInventory)} (at most the devices, at most ${SCALE.maxInventory})`);
  }
  return { devices, inventory };
}

export class ScaleLab {
  private constructor(readonly prefix: string, private state: ScaleState) {}

  get client(): string {
    return `${this.prefix}-scli`;
  }

  get devicesNs(): string {
    return `${this.prefix}-sdev`;
  }

  get devices(): number {
    return this.state.devices;
  }

  get stateDir(): string {
    return scaleStateDir(this.prefix);
  }

  /** Builds the lab (taking down a previous one of the same prefix first). */
  static async up(prefix: string, opts: ScaleOptions): Promise<ScaleLab> {
    const { devices, inventory } = checkScaleOptions(opts);
    await ScaleLab.destroy(prefix);
    const lab = new ScaleLab(prefix, { prefix, devices, inventory, processes: [] });
    mkdirSync(lab.stateDir, { recursive: true, mode: 0o700 });
    lab.save();
    try {
      await lab.build();
    } catch (err) {
      await lab.down();
      throw err;
    }
    return lab;
  }

  /** The lab recorded under `prefix`, or undefined. */
  static open(prefix: string): ScaleLab | undefined {
    const file = join(scaleStateDir(prefix), 'state.json');
    if (!existsSync(file)) return undefined;
    return new ScaleLab(prefix, JSON.parse(readFileSync(file, 'utf8')) as ScaleState);
  }

  static async destroy(prefix: string): Promise<void> {
    const lab = ScaleLab.open(prefix);
    if (lab) return lab.down();
    // Nothing recorded: namespaces of a crashed build may still be there.
    for (const ns of [`${prefix}-scli`, `${prefix}-sdev`]) await run(['ip', 'netns', 'del', ns]);
  }

  async down(): Promise<void> {
    await stopProcesses(this.state.processes);
    for (const ns of [this.client, this.devicesNs]) await run(['ip', 'netns', 'del', ns]);
    rmSync(this.stateDir, { recursive: true, force: true });
  }

  /** Runs a command inside the client namespace, where netdoctor belongs. */
  exec(argv: readonly string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
    return run(['ip', 'netns', 'exec', this.client, ...argv], opts);
  }

  /** The inventory: the first devices, by name, MAC and address. */
  inventory(): Array<{ name: string; ip: string; mac: string }> {
    return Array.from({ length: this.state.inventory }, (_, i) => scaleDevice(i + 1));
  }

  /** Writes the config (optionally with another subnet) into the lab's state directory and returns its path. */
  configPath(subnet: string = SCALE.subnet): string {
    const file = join(this.stateDir, `netdoctor-${subnet.replace('/', '-')}.yaml`);
    writeFileSync(file, this.configYaml(subnet));
    return file;
  }

  configYaml(subnet: string = SCALE.subnet): string {
    const hosts = this.inventory();
    const [dns1, dns2] = [scaleDevice(1).ip, scaleDevice(2).ip];
    return `# netdoctor.yaml for the scale lab (${this.state.devices} live devices on ${SCALE.subnet}, ${hosts.length} in the inventory):
#   sudo netdoctor lab scale exec --prefix ${this.prefix} -- netdoctor check --config <this file>
site: scale
interface: eth0
subnet: ${subnet}
hosts:
${hosts.map((h) => `  - { name: ${h.name}, mac: "${h.mac}", ip: ${h.ip} }`).join('\n')}
dns:
  servers: [${dns1}, ${dns2}]
  records:
${hosts.slice(0, 10).map((h) => `    ${h.name}.${SCALE.domain}: ${h.ip}`).join('\n')}
  external: [example.com]    # answered by the servers themselves (the lab has no internet)
history:
  path: ${join(this.stateDir, 'history.db')}
`;
  }

  private save(): void {
    writeFileSync(join(this.stateDir, 'state.json'), `${JSON.stringify(this.state, null, 2)}\n`, { mode: 0o600 });
  }

  private async build(): Promise<void> {
    const { client, devicesNs: dev } = this;
    raiseNeighbourLimits();
    await must(['ip', 'netns', 'add', client]);
    await must(['ip', 'netns', 'add', dev]);
    // Every device answers ARP only for its own address, from its own MAC.
    await must(['ip', 'netns', 'exec', dev, 'sysctl', '-qw',
      'net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.default.arp_ignore=1',
      'net.ipv4.conf.all.arp_announce=2', 'net.ipv4.conf.default.arp_announce=2',
      'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0']);
    const [a, b] = [`${this.prefix}-sc0`, `${this.prefix}-sd0`];
    await must(['ip', 'link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
    await must(['ip', 'link', 'set', a, 'netns', client]);
    await must(['ip', 'link', 'set', b, 'netns', dev]);
    await must(['ip', '-n', client, '-batch', '-'], {
      input: `link set ${a} name eth0\naddr add ${SCALE.clientIp}/22 dev eth0\nlink set eth0 up\nlink set lo up\n`,
    });
    // A /22 sweep sends ~1,000 broadcasts, each copied to every macvlan: the default queue (1,000) drops some.
    const lines = [`link set ${b} name up0`, 'link set up0 up', 'link set lo up'];
    for (let n = 1; n <= this.state.devices; n++) {
      const d = scaleDevice(n);
      lines.push(`link add d${n} link up0 address ${d.mac} type macvlan mode bridge bcqueuelen 16384`, `addr add ${d.ip}/22 dev d${n}`, `link set d${n} up`);
    }
    await must(['ip', '-n', dev, '-batch', '-'], { input: `${lines.join('\n')}\n`, timeoutMs: 120_000 });
    await this.startDns();
  }

  private async startDns(): Promise<void> {
    const hostsFile = join(this.stateDir, 'inventory.hosts');
    writeFileSync(hostsFile, this.inventory().map((h) => `${h.ip} ${h.name}.${SCALE.domain} ${h.name}`).join('\n') + '\n');
    for (const n of [1, 2]) {
      const { ip } = scaleDevice(n);
      const rec = startDaemon(this.devicesNs, [
        'dnsmasq', '--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', `--addn-hosts=${hostsFile}`,
        `--listen-address=${ip}`, '--bind-interfaces', '--port=53', '--no-dhcp-interface=*', '--pid-file=', `--local=/${SCALE.domain}/`,
        // No internet in the lab: the servers answer the external name themselves, as a working upstream would.
        `--address=/example.com/${SCALE.externalIp}`,
        '--user=root', '--group=root',
      ], `dns${n}/dnsmasq`, join(this.stateDir, `dns${n}.log`));
      this.state.processes.push(rec);
      this.save();
      await waitFor(`dns${n} (dnsmasq) to listen on ${ip}:53`, async () => {
        const r = await run(['ip', 'netns', 'exec', this.devicesNs, 'ss', '-Hlun', `src ${ip}:53`]);
        return r.stdout.trim() !== '';
      }, { timeoutMs: 10_000, detail: () => readFileSync(rec.log!, 'utf8').slice(-500) });
    }
  }
}

/**
 * The neighbour table is one for all namespaces, with a hard limit
 * (gc_thresh3, default 1024) that a /22 sweep (1,022 entries) plus the
 * devices' own entries overflow, whatever N: every new entry then runs the
 * kernel's forced GC over the whole table (a /22 sweep took 9.6 s instead of
 * 1.1 s). A real host sweeping a full /22 needs the same; the lab raises the
 * limits (never lowers them) and says so. See docs/benchmarks.md (scale).
 */
function raiseNeighbourLimits(): void {
  const want = { gc_thresh2: 2048, gc_thresh3: 4096 };
  for (const [key, value] of Object.entries(want)) {
    const file = `/proc/sys/net/ipv4/neigh/default/${key}`;
    if (Number(readFileSync(file, 'utf8')) < value) {
      writeFileSync(file, String(value));
      process.stderr.write(`scale lab: raised net.ipv4.neigh.default.${key} to ${value} (machine-wide; a /22 sweep needs more than the default)\n`);
    }
  }
}

export function scaleStateDir(prefix: string): string {
  return join(STATE_ROOT, `${prefix}-scale`);
}
