/**
 * DHCP: time to a verdict, and whether it is the right one, for netdoctor and
 * the tools a person would reach for — monitoring-plugins `check_dhcp` and
 * `nmap --script broadcast-dhcp-discover` — in the same lab run.
 *
 * Scenarios: one server (the router) at first contact and on repeat, no
 * server (`unplugged-pi`), and two servers (`rogue-dhcp`) at first contact and
 * on repeat. "First contact" gives every run of every tool a fresh MAC, so
 * each server pings the address before offering it (dnsmasq: 3-4 s), as for
 * a client it has not heard from lately. "Repeat" uses one MAC per tool that
 * has just been answered (an untimed warm-up run first), so servers answer
 * from their ping cache in milliseconds.
 *
 * Every tool runs inside the lab's `client` node. netdoctor is timed as a
 * user runs it (`check --only dhcp --json`, node start-up included).
 */
import YAML from 'yaml';
import { randomLocalMac } from '../src/probes/net/client-mac.js';
import { sleep } from '../src/shared/wait.js';
import { median, type BenchFn, type BenchLab, type BenchRow } from './types.js';

const CHECK_DHCP = '/usr/lib/nagios/plugins/check_dhcp';
const TOOL_TIMEOUT_MS = 40_000;
const ROGUE_IP = '192.168.1.254';
/**
 * dnsmasq stops pinging when it has done 6 pings in the last 30 s (its
 * overload guard) and then offers at once: first-contact runs closer together
 * than this would measure that guard, not a first contact. Runs with a fresh
 * MAC start at least this far apart (untimed wait), whichever tool they are.
 */
const FRESH_GAP_MS = 6500;
/** Before repeat rows: a warm-up run, then long enough for every ping it caused to end (dnsmasq: 3-4 s). */
const WARM_SETTLE_MS = 4500;

interface Truth {
  /** Server identifiers that really answer, sorted. */
  servers: string[];
  /** Those not in the config's dhcp.servers. */
  unexpected: string[];
}

interface Scenario {
  label: string;
  faults: string[];
  fresh: boolean;
  truth: (router: string) => Truth;
}

const SCENARIOS: Scenario[] = [
  { label: 'one server, first contact', faults: [], fresh: true, truth: (r) => ({ servers: [r], unexpected: [] }) },
  { label: 'one server, repeat', faults: [], fresh: false, truth: (r) => ({ servers: [r], unexpected: [] }) },
  { label: 'no server (unplugged-pi)', faults: ['unplugged-pi'], fresh: false, truth: () => ({ servers: [], unexpected: [] }) },
  { label: 'two servers, first contact (rogue-dhcp)', faults: ['rogue-dhcp'], fresh: true, truth: (r) => ({ servers: [r, ROGUE_IP].sort(), unexpected: [ROGUE_IP] }) },
  { label: 'two servers, repeat (rogue-dhcp)', faults: ['rogue-dhcp'], fresh: false, truth: (r) => ({ servers: [r, ROGUE_IP].sort(), unexpected: [ROGUE_IP] }) },
];

interface DhcpSummary {
  reason: string;
  data?: { servers?: string[]; unexpected?: string[]; elapsedMs?: number };
  values?: { offer_ms?: number };
}

type Obs = { probe: string; check: string } & DhcpSummary;

function summaryOf(observations: readonly Obs[]): DhcpSummary | undefined {
  return observations.find((o) => o.probe === 'dhcp' && o.check === 'summary');
}

const same = (a: readonly string[], b: readonly string[]) => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());

export function netdoctorCorrect(s: DhcpSummary | undefined, truth: Truth): boolean {
  if (!s) return false;
  const servers = s.data?.servers ?? [];
  const unexpected = s.data?.unexpected ?? [];
  if (truth.servers.length === 0) return s.reason === 'no-offer' && servers.length === 0;
  return same(servers, truth.servers) && same(unexpected, truth.unexpected) && s.reason === (truth.unexpected.length ? 'unexpected-server' : 'served');
}

/** check_dhcp's verdict: the offers it counted, and its plugin status. */
export function checkDhcpVerdict(out: string, code: number): { offers: number; code: number } {
  const m = /Received (\d+) DHCPOFFER/.exec(out);
  return { offers: m ? Number(m[1]) : /No DHCPOFFERs/.test(out) ? 0 : -1, code };
}

/** Server identifiers nmap's broadcast-dhcp-discover lists. */
export function nmapServers(out: string): string[] {
  return [...out.matchAll(/Server Identifier: (\d+\.\d+\.\d+\.\d+)/g)].map((m) => m[1]).sort();
}

export const dhcpBench: BenchFn = async (lab: BenchLab, { runs, log }) => {
  const yamlText = lab.configYaml();
  const doc = (YAML.parse(yamlText) ?? {}) as { dhcp?: { servers?: string[] }; router?: { ip?: string }; interface?: string };
  const router = doc.dhcp?.servers?.[0] ?? doc.router?.ip ?? '192.168.1.1';
  const iface = doc.interface ?? 'eth0';
  const configPath = lab.writeConfig(yamlText);
  const rows: BenchRow[] = [];
  const figures: Array<{ name: string; value: string }> = [];
  const notes: string[] = [
    `Truth of the lab: the router ${router} is the only server allowed (dhcp.servers); rogue-dhcp adds ${ROGUE_IP}; unplugged-pi stops the router's DHCP. Every server is dnsmasq 2.90 with its default ping check.`,
    'Correct: netdoctor names exactly the servers that answer and flags the rogue as unexpected (summary served / no-offer / unexpected-server); check_dhcp counts the right number of offers (exit 0 with them, 2 without); nmap lists exactly the answering servers.',
    `check_dhcp cannot tell an expected server from an unexpected one: with two servers it still exits 0 (OK); it is counted correct when it counts both offers. nmap gives no verdict at all, only a listing.`,
    'netdoctor runs under its own installation MAC in the repeat rows and with NETDOCTOR_DHCP_CLIENT_MAC set to a fresh locally administered MAC per run in the first-contact rows; check_dhcp and nmap get the same treatment through -m and broadcast-dhcp-discover.mac.',
    `Repeat rows: each tool's MAC is warmed up by an untimed run just before its timed runs (dnsmasq keeps a ping result 30 s). First-contact rows: runs start at least ${FRESH_GAP_MS / 1000} s apart, because dnsmasq skips its ping check (and offers at once) after 6 pings within 30 s.`,
  ];

  const netdoctor = (mac: string | undefined) => {
    const args = ['check', '--only', 'dhcp', '--json', '--config', configPath];
    return lab.runNetdoctor('client', args, { timeoutMs: TOOL_TIMEOUT_MS, ...(mac ? { env: { NETDOCTOR_DHCP_CLIENT_MAC: mac } } : {}) });
  };
  const checkDhcp = (mac: string) => lab.exec('client', [CHECK_DHCP, '-i', iface, '-m', mac], { timeoutMs: TOOL_TIMEOUT_MS });
  const nmap = (mac: string) =>
    lab.exec('client', ['nmap', '-n', '--script', 'broadcast-dhcp-discover', '-e', iface, '--script-args', `broadcast-dhcp-discover.mac=${mac}`], { timeoutMs: TOOL_TIMEOUT_MS });

  // One MAC per tool for the repeat rows, each the tool's "installation" (netdoctor keeps its own).
  const repeatMac = { check_dhcp: randomLocalMac(), nmap: randomLocalMac() };
  let lastFreshStart = 0;

  for (const sc of SCENARIOS) {
    await lab.heal();
    if (sc.faults.length) await lab.fault(...sc.faults);
    const truth = sc.truth(router);
    const scenario = `DHCP verdict, ${sc.label}`;
    log(`dhcp bench: ${sc.label}`);
    const seen: Record<string, Set<string>> = {};
    const remember = (tool: string, what: string) => (seen[tool] ??= new Set()).add(what);
    /**
     * Times one tool. Repeat rows warm the tool's MAC up right before (dnsmasq keeps a ping
     * result 30 s); first-contact rows space their runs (FRESH_GAP_MS). Neither wait is timed.
     */
    const measure = async <R>(run: (mac: string | undefined) => Promise<R>, repeatMacOf: string | undefined, check: (r: R) => boolean) => {
      if (!sc.fresh) {
        await run(repeatMacOf);
        await sleep(WARM_SETTLE_MS);
      }
      const samplesMs: number[] = [];
      let correct = true;
      for (let i = 0; i < runs; i++) {
        if (sc.fresh) {
          await sleep(lastFreshStart + FRESH_GAP_MS - Date.now());
          lastFreshStart = Date.now();
        }
        const t0 = performance.now();
        const r = await run(sc.fresh ? randomLocalMac() : repeatMacOf);
        samplesMs.push(performance.now() - t0);
        if (!check(r)) correct = false;
      }
      return { samplesMs, correct };
    };

    const probeMs: number[] = [];
    const ours = await measure(netdoctor, undefined, (res) => {
      try {
        const s = summaryOf((JSON.parse(res.stdout) as { observations: Obs[] }).observations);
        if (s?.data?.elapsedMs !== undefined) probeMs.push(s.data.elapsedMs);
        remember('netdoctor', `${s?.reason ?? 'no summary'} [${[...(s?.data?.servers ?? [])].sort().join(', ')}]${s?.data?.unexpected?.length ? ` unexpected ${s.data.unexpected.join(', ')}` : ''}`);
        return netdoctorCorrect(s, truth);
      } catch {
        remember('netdoctor', `exit ${res.code}: ${(res.stderr || res.stdout).trim().split('\n')[0]}`);
        return false;
      }
    });
    rows.push({
      scenario,
      tool: 'netdoctor check --only dhcp',
      ...ours,
      note: `${[...(seen.netdoctor ?? [])].join(' | ')}; probe's own median ${Math.round(median(probeMs))} ms`,
    });

    const cd = await measure((mac) => checkDhcp(mac!), repeatMac.check_dhcp, (res) => {
      const v = checkDhcpVerdict(res.stdout + res.stderr, res.code);
      remember('check_dhcp', `exit ${v.code}, ${v.offers < 0 ? 'no verdict' : `${v.offers} offer(s)`}`);
      if (truth.servers.length === 0) return v.code === 2 && v.offers === 0;
      return v.offers === truth.servers.length && v.code === 0;
    });
    rows.push({ scenario, tool: `check_dhcp -i ${iface} (default 2 s)`, ...cd, note: [...(seen.check_dhcp ?? [])].join(' | ') });

    const nm = await measure((mac) => nmap(mac!), repeatMac.nmap, (res) => {
      const servers = nmapServers(res.stdout);
      remember('nmap', `[${servers.join(', ')}]`);
      return res.code === 0 && same(servers, truth.servers);
    });
    rows.push({ scenario, tool: `nmap --script broadcast-dhcp-discover -e ${iface} (10 s)`, ...nm, note: [...(seen.nmap ?? [])].join(' | ') });

    figures.push({
      name: `${sc.label}: median time relative to netdoctor`,
      value: `check_dhcp ${(median(cd.samplesMs) / median(ours.samplesMs)).toFixed(2)}x, nmap ${(median(nm.samplesMs) / median(ours.samplesMs)).toFixed(2)}x`,
    });
  }
  await lab.heal();
  return { title: 'DHCP probe: time to verdict', rows, figures, notes };
};

export default dhcpBench;
