/**
 * The whole check: time to a verdict for `netdoctor check` beside the classic
 * toolkit a user would otherwise run for the same questions, in the same lab
 * run — monitoring-plugins check_dhcp and check_dig, fping, nmap's OpenVPN
 * service probe, and dig + curl for the DDNS name. The toolkit is timed twice:
 * as a script runs it (one tool after another) and as a monitoring scheduler
 * does (all at once, verdict when the last one returns).
 *
 * Correctness: netdoctor must name the lab's true root causes; the toolkit
 * cannot name causes at all, so its column says whether every tool's alarm
 * (OK or not) matched the truth of the lab.
 *
 * Also: start-up time of `netdoctor --version` (beside a bare `node -e 0`, the
 * floor any Node CLI pays) and the peak RSS of a whole `check`.
 */
import { spawnSync } from 'node:child_process';
import { BUILT_CLI } from '../src/lab/guest.js';
import { routerFigures } from './router.js';
import { median, timeRuns, type BenchFn, type BenchLab, type BenchRow } from './types.js';

const TIMEOUT_MS = 120_000;

interface Truth {
  label: string;
  faults: string[];
  /** Root finding ids netdoctor must report (labels not compared). */
  roots: string[];
  /** Which classic tools should alarm (exit non-zero / not answer) in this state. */
  alarms: Record<ToolName, boolean>;
}

type ToolName = 'check_dhcp' | 'check_dig local' | 'check_dig external' | 'fping' | 'nmap openvpn' | 'ddns by hand';

const STATES: Truth[] = [
  {
    label: 'healthy',
    faults: [],
    roots: [],
    alarms: { check_dhcp: false, 'check_dig local': false, 'check_dig external': false, fping: false, 'nmap openvpn': false, 'ddns by hand': false },
  },
  {
    label: 'everything down (unplugged-pi + isp-down + dns-down + vpn-down)',
    faults: ['unplugged-pi', 'isp-down', 'dns-down', 'vpn-down'],
    // The router itself says its WAN link is down (UPnP GetStatusInfo), which explains wan-down.
    roots: ['dhcp-server-missing', 'router-wan-down'],
    alarms: { check_dhcp: true, 'check_dig local': true, 'check_dig external': true, fping: true, 'nmap openvpn': true, 'ddns by hand': true },
  },
];

/** The toolkit, each tool as a user would type it, and how to read its alarm. */
const TOOLKIT: Array<{ name: ToolName; argv: string[]; alarm: (r: { code: number; stdout: string }) => boolean }> = [
  { name: 'check_dhcp', argv: ['/usr/lib/nagios/plugins/check_dhcp', '-i', 'eth0'], alarm: (r) => r.code !== 0 },
  { name: 'check_dig local', argv: ['/usr/lib/nagios/plugins/check_dig', '-H', '192.168.1.10', '-l', 'pi-vpn.home', '-a', '192.168.1.20'], alarm: (r) => r.code !== 0 },
  { name: 'check_dig external', argv: ['/usr/lib/nagios/plugins/check_dig', '-H', '192.168.1.10', '-l', 'example.com'], alarm: (r) => r.code !== 0 },
  { name: 'fping', argv: ['fping', '192.168.1.1', '192.168.1.10', '192.168.1.20', '203.0.113.1'], alarm: (r) => r.code !== 0 },
  {
    name: 'nmap openvpn',
    // Version detection limited to the light probes (OpenVPN's reset is among them): a full -sV on a closed UDP port takes ~100 s.
    argv: ['nmap', '-n', '-Pn', '-sU', '-sV', '--version-intensity', '2', '-p', '1194', '192.168.1.20'],
    alarm: (r) => !/1194\/udp\s+open\s+openvpn/.test(r.stdout),
  },
  {
    name: 'ddns by hand',
    argv: ['sh', '-c', 'a=$(dig +short +time=2 +tries=1 home.dyn.example.net @203.0.113.53); b=$(curl -s -m 5 http://203.0.113.1/); [ -n "$a" ] && [ "$a" = "$b" ]'],
    alarm: (r) => r.code !== 0,
  },
];

function rootIds(stdout: string): string[] | undefined {
  try {
    const report = JSON.parse(stdout) as { findings: Array<{ id: string; root: boolean; severity: string }> };
    return report.findings.filter((f) => f.root && f.severity !== 'unknown' && f.severity !== 'info').map((f) => f.id).sort();
  } catch {
    return undefined;
  }
}

export const checkBench: BenchFn = async (lab: BenchLab, { runs, log }) => {
  const rows: BenchRow[] = [];
  const figures: Array<{ name: string; value: string }> = [];
  const config = lab.writeConfig(lab.configYaml());

  for (const state of STATES) {
    await lab.heal();
    if (state.faults.length) await lab.fault(...state.faults);
    log(`check: ${state.label}`);

    const nd = await timeRuns(
      runs,
      () => lab.runNetdoctor('client', ['check', '--json', '--no-history', '--config', config], { timeoutMs: TIMEOUT_MS }),
      (r) => JSON.stringify(rootIds(r.stdout)) === JSON.stringify([...state.roots].sort()),
    );
    rows.push({ scenario: state.label, tool: 'netdoctor check', samplesMs: nd.samplesMs, correct: nd.correct });

    const runTool = async (t: (typeof TOOLKIT)[number]) => {
      const r = await lab.exec('client', t.argv, { timeoutMs: TIMEOUT_MS });
      return t.alarm(r) === state.alarms[t.name];
    };
    const seq = await timeRuns(runs, async () => {
      const right: boolean[] = [];
      for (const t of TOOLKIT) right.push(await runTool(t));
      return right.every(Boolean);
    }, (ok) => ok);
    rows.push({ scenario: state.label, tool: 'toolkit, one after another', samplesMs: seq.samplesMs, correct: seq.correct, note: 'alarms only, no cause' });
    const par = await timeRuns(runs, async () => (await Promise.all(TOOLKIT.map(runTool))).every(Boolean), (ok) => ok);
    rows.push({ scenario: state.label, tool: 'toolkit, all at once', samplesMs: par.samplesMs, correct: par.correct, note: 'alarms only, no cause' });

    // Which tool got it wrong, for the notes.
    for (const t of TOOLKIT) {
      if (!(await runTool(t))) figures.push({ name: `${state.label}: ${t.name}`, value: `wrong alarm (expected ${state.alarms[t.name] ? 'an alarm' : 'OK'})` });
    }
  }
  figures.push(...(await routerFigures(lab, config, runs)));

  // Start-up: no network involved, so it runs in this namespace.
  const time = (argv: string[]) => {
    const samples: number[] = [];
    for (let i = 0; i < Math.max(5, runs); i++) {
      const t0 = performance.now();
      spawnSync(argv[0], argv.slice(1), { stdio: 'ignore' });
      samples.push(performance.now() - t0);
    }
    return samples;
  };
  rows.push({ scenario: 'start-up', tool: 'netdoctor --version', samplesMs: time([process.execPath, BUILT_CLI, '--version']), correct: null });
  rows.push({ scenario: 'start-up', tool: 'node -e 0 (floor)', samplesMs: time([process.execPath, '-e', '0']), correct: null });

  // Peak RSS of a whole healthy check, from GNU time's report on the child.
  const rss: number[] = [];
  for (let i = 0; i < Math.max(3, Math.min(runs, 5)); i++) {
    const r = await lab.exec('client', ['/usr/bin/time', '-f', 'maxrss_kb=%M', process.execPath, BUILT_CLI, 'check', '--json', '--no-history', '--config', config], { timeoutMs: TIMEOUT_MS });
    const m = /maxrss_kb=(\d+)/.exec(r.stderr);
    if (m) rss.push(Number(m[1]));
  }
  if (rss.length) figures.push({ name: 'peak RSS of `check` (median)', value: `${(median(rss) / 1024).toFixed(1)} MiB` });

  return {
    title: 'Whole check: netdoctor beside the classic toolkit',
    rows,
    figures,
    notes: [
      'Toolkit: check_dhcp -i eth0; check_dig for a local and an external name at pi-dns; fping of gateway, both Pis and an internet address; nmap -sU -sV on 1194/udp; dig + curl for the DDNS name.',
      'netdoctor answers every one of those questions and names the root cause; the toolkit only raises alarms. "correct" for the toolkit means every alarm matched the truth of the lab.',
    ],
  };
};

export default checkBench;
