/**
 * Hosts: how long a /24 sweep takes, and whether it finds exactly the live
 * hosts, for netdoctor's unprivileged sweep beside `nmap -sn` (root: raw ARP)
 * and `fping -g` (ICMP) in the same lab run; then the whole hosts probe's time
 * to a per-host verdict (at its address / moved where / missing), beside what
 * a person would do with those tools: look for the Pis' MACs in nmap's output,
 * or in the neighbour table after fping.
 *
 * Every tool runs inside the lab's `client` node. The tools take turns within
 * each run (netdoctor, nmap, fping, …), so they share the client's neighbour
 * cache as they would on a real machine; nmap sends its own ARP and ignores
 * that cache, fping and netdoctor go through the kernel.
 */
import { resolve } from 'node:path';
import YAML from 'yaml';
import { median, type BenchFn, type BenchLab, type BenchRow } from './types.js';

const SUBNET = '192.168.1.0/24';
const CLIENT_IP = '192.168.1.50';
const TOOL_TIMEOUT_MS = 60_000;

interface Pi {
  name: string;
  mac: string;
  ip: string;
}

type Verdict = { reason: 'at-expected' | 'moved' | 'missing' | 'conflict'; actual?: string };

interface Scenario {
  label: string;
  faults: string[];
  /** Compare sweeps too (healthy and moved Pis), or only verdicts. */
  sweep: boolean;
  /** Prime the client's neighbour cache with the Pis' old addresses before the fault, as a client in use would have it. */
  warmCache: boolean;
}

const SCENARIOS: Scenario[] = [
  { label: 'healthy', faults: [], sweep: true, warmCache: false },
  { label: 'reservations-lost (Pis on pool addresses)', faults: ['reservations-lost'], sweep: true, warmCache: true },
  { label: 'unplugged-pi (Pis on 169.254/16, client cache still warm)', faults: ['unplugged-pi'], sweep: false, warmCache: true },
];

/** netdoctor's sweep alone, in a fresh node process (as nmap and fping are fresh processes). */
const SWEEP_SCRIPT = `
const [root, cidr] = process.argv.slice(1);
const { sweep } = await import(root + '/dist/probes/net/sweep.js');
const { parseCidr } = await import(root + '/dist/shared/ipv4.js');
const { networkInterfaces } = await import('node:os');
const own = (networkInterfaces().eth0 ?? []).filter((a) => a.family === 'IPv4').map((a) => a.address);
const r = await sweep({ subnet: parseCidr(cidr), iface: 'eth0', exclude: own });
process.stdout.write(JSON.stringify({ ms: r.durationMs, alive: r.alive }));
`;

function pisOf(yamlText: string): Pi[] {
  const doc = (YAML.parse(yamlText) ?? {}) as { hosts?: Pi[] };
  return (doc.hosts ?? []).map((h) => ({ name: h.name, mac: h.mac.toLowerCase(), ip: h.ip }));
}

/** The truth, read from the nodes themselves: which LAN addresses are live (client excluded). */
async function liveHosts(lab: BenchLab): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const [node, dev] of [['router', 'br0'], ['pi-dns', 'eth0'], ['pi-vpn', 'eth0']] as const) {
    const r = await lab.exec(node, ['ip', '-j', 'addr', 'show', 'dev', dev]);
    const [link] = JSON.parse(r.stdout) as Array<{ address: string; addr_info: Array<{ family: string; local: string }> }>;
    for (const a of link.addr_info) if (a.family === 'inet' && a.local.startsWith('192.168.1.')) out.set(a.local, link.address.toLowerCase());
  }
  return out;
}

function truthVerdict(pi: Pi, live: Map<string, string>): Verdict {
  const at = live.get(pi.ip);
  if (at === pi.mac) return { reason: 'at-expected', actual: pi.ip };
  const elsewhere = [...live].find(([, mac]) => mac === pi.mac)?.[0];
  if (at) return { reason: 'conflict', ...(elsewhere ? { actual: elsewhere } : {}) };
  return elsewhere ? { reason: 'moved', actual: elsewhere } : { reason: 'missing' };
}

/** The verdict a person draws from a list of (ip, mac) sightings. */
function verdictFrom(pi: Pi, seen: ReadonlyArray<[string, string]>): Verdict {
  const at = seen.find(([ip]) => ip === pi.ip)?.[1];
  if (at === pi.mac) return { reason: 'at-expected', actual: pi.ip };
  const elsewhere = seen.find(([ip, mac]) => mac === pi.mac && ip !== pi.ip)?.[0];
  if (at) return { reason: 'conflict', ...(elsewhere ? { actual: elsewhere } : {}) };
  return elsewhere ? { reason: 'moved', actual: elsewhere } : { reason: 'missing' };
}

const sameVerdict = (a: Verdict, b: Verdict) => a.reason === b.reason && (a.actual ?? '') === (b.actual ?? '');

/** `nmap -sn` output: (ip, mac) of each host up; the scanning host itself has no MAC line. */
export function parseNmap(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let ip: string | undefined;
  for (const line of text.split('\n')) {
    const report = /^Nmap scan report for (?:\S+ \()?(\d+\.\d+\.\d+\.\d+)\)?/.exec(line);
    if (report) {
      ip = report[1];
      out.push([ip, '']);
      continue;
    }
    const mac = /^MAC Address: ([0-9A-F:]{17})/i.exec(line);
    if (mac && ip) out[out.length - 1][1] = mac[1].toLowerCase();
  }
  return out;
}

/** What `ip neigh` shows as resolved, read the way node-arp or `arp -n` users read it: any entry with a MAC. */
export function parseNeighText(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+\.\d+\.\d+\.\d+) .*lladdr ([0-9a-f:]{17})/.exec(line);
    if (m && !/FAILED|INCOMPLETE/.test(line)) out.push([m[1], m[2]]);
  }
  return out;
}

interface Tool {
  tool: string;
  run: () => Promise<{ ips: string[]; seen: Array<[string, string]>; verdicts?: Map<string, Verdict>; note?: string }>;
}

export const hostsBench: BenchFn = async (lab, { runs, log }) => {
  const yamlText = lab.configYaml();
  const pis = pisOf(yamlText);
  const configPath = lab.writeConfig(yamlText);
  const root = resolve('.');
  const rows: BenchRow[] = [];
  const figures: Array<{ name: string; value: string }> = [];
  const notes: string[] = [
    `Sweep of ${SUBNET} from the lab's client (${CLIENT_IP}); live: the router and both Pis. Correct = the tool listed exactly the live addresses (the client itself left out).`,
    'nmap -sn runs as root (the lab) and so sends raw ARP; netdoctor sweeps unprivileged (a UDP datagram per address makes the kernel ARP, then the neighbour table is read); fping sends ICMP echo, once with its defaults (3 retries of every silent address, with back-off: most of its time goes on the ~250 empty addresses) and once with -r 0 (one echo each, like netdoctor\'s one datagram).',
    'Verdict rows: a Pi is at its address, moved (and where), or missing. For nmap the verdict is read from its MAC lines; for fping from `ip neigh` afterwards (any entry holding a MAC), which is what node-arp-style tools do and where a stale cache entry misleads.',
  ];

  const sweepTools: Tool[] = [
    {
      tool: 'netdoctor sweep (node process, unprivileged method)',
      run: async () => {
        const r = await lab.exec('client', ['node', '--input-type=module', '-e', SWEEP_SCRIPT, root, SUBNET], { timeoutMs: TOOL_TIMEOUT_MS });
        const parsed = JSON.parse(r.stdout) as { ms: number; alive: Array<{ ip: string; mac: string }> };
        return { ips: parsed.alive.map((a) => a.ip), seen: parsed.alive.map((a) => [a.ip, a.mac] as [string, string]), note: `in-process ${Math.round(parsed.ms)} ms` };
      },
    },
    {
      tool: `nmap -sn -n ${SUBNET}`,
      run: async () => {
        const r = await lab.exec('client', ['nmap', '-sn', '-n', SUBNET], { timeoutMs: TOOL_TIMEOUT_MS });
        const seen = parseNmap(r.stdout).filter(([ip]) => ip !== CLIENT_IP);
        return { ips: seen.map(([ip]) => ip), seen };
      },
    },
    {
      tool: `fping -a -q -g ${SUBNET}`,
      run: async () => {
        const r = await lab.exec('client', ['fping', '-a', '-q', '-g', SUBNET], { timeoutMs: TOOL_TIMEOUT_MS });
        const ips = r.stdout.split('\n').map((l) => l.trim()).filter((l) => /^\d+\.\d+\.\d+\.\d+$/.test(l) && l !== CLIENT_IP);
        const neigh = await lab.exec('client', ['ip', '-4', 'neigh', 'show', 'dev', 'eth0']);
        return { ips, seen: parseNeighText(neigh.stdout) };
      },
    },
    {
      // fping's defaults retry every silent address 3 times with back-off; with -r 0 it asks once, as netdoctor's sweep does.
      tool: `fping -a -q -r 0 -g ${SUBNET}`,
      run: async () => {
        const r = await lab.exec('client', ['fping', '-a', '-q', '-r', '0', '-g', SUBNET], { timeoutMs: TOOL_TIMEOUT_MS });
        const ips = r.stdout.split('\n').map((l) => l.trim()).filter((l) => /^\d+\.\d+\.\d+\.\d+$/.test(l) && l !== CLIENT_IP);
        const neigh = await lab.exec('client', ['ip', '-4', 'neigh', 'show', 'dev', 'eth0']);
        return { ips, seen: parseNeighText(neigh.stdout) };
      },
    },
  ];

  const verdictTool: Tool = {
    tool: 'netdoctor check --only hosts --json',
    run: async () => {
      const r = await lab.runNetdoctor('client', ['check', '--only', 'hosts', '--json', '--no-history', '--no-graphite', '--config', configPath], { timeoutMs: TOOL_TIMEOUT_MS });
      const doc = JSON.parse(r.stdout) as { observations: Array<{ probe: string; check: string; subject: string; reason: string; data?: { actualIp?: string; alive?: Array<{ ip: string }> } }> };
      const verdicts = new Map<string, Verdict>();
      let ips: string[] = [];
      for (const o of doc.observations) {
        if (o.probe !== 'hosts') continue;
        if (o.check === 'host') verdicts.set(o.subject, { reason: o.reason as Verdict['reason'], ...(o.data?.actualIp ? { actual: o.data.actualIp } : {}) });
        if (o.check === 'sweep') ips = (o.data?.alive ?? []).map((a) => a.ip);
      }
      return { ips, seen: [], verdicts };
    },
  };

  let sweepMsInProcess: number[] = [];
  for (const sc of SCENARIOS) {
    await lab.heal();
    if (sc.warmCache) for (const pi of pis) await lab.exec('client', ['ping', '-n', '-c', '1', '-W', '1', pi.ip]);
    if (sc.faults.length) await lab.fault(...sc.faults);
    const live = await liveHosts(lab);
    const truthIps = [...live.keys()].sort();
    const truth = new Map(pis.map((pi) => [pi.name, truthVerdict(pi, live)]));
    log(`hosts bench: ${sc.label}: live ${truthIps.join(', ')}; truth ${[...truth].map(([n, v]) => `${n} ${v.reason}${v.actual ? ` ${v.actual}` : ''}`).join(', ')}`);

    const tools = [...(sc.sweep ? sweepTools : sweepTools.slice(1)), verdictTool];
    const samples = new Map<string, number[]>(tools.map((t) => [t.tool, []]));
    const sweepRight = new Map<string, boolean>(tools.map((t) => [t.tool, true]));
    const verdictRight = new Map<string, boolean>(tools.map((t) => [t.tool, true]));
    const seenNotes = new Map<string, Set<string>>(tools.map((t) => [t.tool, new Set()]));
    for (let i = 0; i < runs; i++) {
      for (const t of tools) {
        const t0 = performance.now();
        let result: Awaited<ReturnType<Tool['run']>>;
        try {
          result = await t.run();
        } catch (err) {
          samples.get(t.tool)!.push(performance.now() - t0);
          sweepRight.set(t.tool, false);
          verdictRight.set(t.tool, false);
          seenNotes.get(t.tool)!.add(`failed: ${String(err).slice(0, 120)}`);
          continue;
        }
        samples.get(t.tool)!.push(performance.now() - t0);
        const ips = [...new Set(result.ips)].sort();
        if (ips.join() !== truthIps.join()) {
          sweepRight.set(t.tool, false);
          seenNotes.get(t.tool)!.add(`found ${ips.join(', ') || 'nothing'}`);
        }
        const verdicts = result.verdicts ?? new Map(pis.map((pi) => [pi.name, verdictFrom(pi, result.seen)]));
        for (const [name, v] of verdicts) {
          if (!sameVerdict(v, truth.get(name)!)) {
            verdictRight.set(t.tool, false);
            seenNotes.get(t.tool)!.add(`${name}: ${v.reason}${v.actual ? ` ${v.actual}` : ''}`);
          }
        }
        if (result.note && t.tool.startsWith('netdoctor sweep')) sweepMsInProcess.push(Number(/(\d+)/.exec(result.note)![1]));
      }
    }
    if (sc.sweep) {
      for (const t of sweepTools) {
        rows.push({ scenario: `/24 sweep, ${sc.label}`, tool: t.tool, samplesMs: samples.get(t.tool)!, correct: sweepRight.get(t.tool)!, note: [...seenNotes.get(t.tool)!].filter((n) => n.startsWith('found') || n.startsWith('failed')).join(' | ') || undefined });
      }
      const ours = median(samples.get(sweepTools[0].tool)!);
      figures.push({
        name: `${sc.label}: sweep median, nmap and fping relative to netdoctor's sweep`,
        value: `nmap ${(median(samples.get(sweepTools[1].tool)!) / ours).toFixed(2)}x, fping ${(median(samples.get(sweepTools[2].tool)!) / ours).toFixed(2)}x, fping -r 0 ${(median(samples.get(sweepTools[3].tool)!) / ours).toFixed(2)}x`,
      });
      if (sweepMsInProcess.length) figures.push({ name: `${sc.label}: netdoctor sweep inside the process (median, no node start-up)`, value: `${Math.round(median(sweepMsInProcess))} ms` });
      sweepMsInProcess = [];
    }
    const verdictRows: Array<[string, string]> = [
      [verdictTool.tool, verdictTool.tool],
      [sweepTools[1].tool, 'nmap -sn, MACs read from its output'],
      [sweepTools[2].tool, 'fping -g, then `ip neigh` read for the MACs'],
      [sweepTools[3].tool, 'fping -r 0 -g, then `ip neigh` read for the MACs'],
    ];
    for (const [key, label] of verdictRows) {
      if (!samples.has(key)) continue;
      rows.push({ scenario: `hosts verdict, ${sc.label}`, tool: label, samplesMs: samples.get(key)!, correct: verdictRight.get(key)!, note: [...seenNotes.get(key)!].filter((n) => !n.startsWith('found')).join(' | ') || undefined });
    }
    const ours = median(samples.get(verdictTool.tool)!);
    figures.push({
      name: `${sc.label}: time to verdict, nmap and fping+ip neigh relative to netdoctor check`,
      value: `nmap ${(median(samples.get(sweepTools[1].tool)!) / ours).toFixed(2)}x, fping ${(median(samples.get(sweepTools[2].tool)!) / ours).toFixed(2)}x, fping -r 0 ${(median(samples.get(sweepTools[3].tool)!) / ours).toFixed(2)}x`,
    });
  }
  await lab.heal();
  return { title: 'Hosts: /24 sweep and time to a per-host verdict', rows, figures, notes };
};

export default hostsBench;
