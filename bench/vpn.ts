/**
 * VPN and DDNS: time to a verdict, and whether it is the right one, for
 * netdoctor and what a person would otherwise run, in the same lab run.
 *
 * VPN — is OpenVPN up at pi-vpn? The peer is `nmap -sU -sV -p PORT`: nmap's
 * service probes include an OpenVPN HARD_RESET (the same packet netdoctor
 * sends), it needs no client certificate, and it is what people type to ask
 * "is something answering on 1194/udp". An `openvpn --client` attempt was not
 * chosen: it needs a CA and client certificate before it sends anything, so
 * without credentials it tells nothing, and with them it measures the whole
 * TLS handshake and login, not liveness. Scenarios: healthy, vpn-down (server
 * stopped, Pi up), and the tls-auth server (netdoctor given the key; nmap
 * cannot sign, so it can only say open|filtered).
 *
 * DDNS — does the name point at the current public address? The peer is the
 * by-hand check: `dig +short NAME @RESOLVER` and `curl -s WHAT-IS-MY-IP` (wget -qO- where curl is missing),
 * compared by eye (here: by string). Scenarios: healthy, ddns-stale.
 *
 * Every tool runs inside the lab's `client` node. netdoctor is timed as a
 * user runs it (`check --only vpn|ddns --json`, node start-up included) and,
 * in a second row, as the probe alone under the runner (a fresh node too).
 */
import YAML from 'yaml';
import { Lab } from '../src/lab/lab.js';
import { probeAloneArgv } from './probe-alone.js';
import { median, timeRuns, type BenchFn, type BenchLab, type BenchRow } from './types.js';

const TOOL_TIMEOUT_MS = 180_000;
/** nmap on a port that never answers tries every UDP probe (~100 s): measured once, not `runs` times. */
const SLOW_RUNS = 1;

interface ObsLite {
  probe: string;
  check: string;
  subject: string;
  status: string;
  reason: string;
  labels: Record<string, string>;
}

type VpnTruth = 'up' | 'down';

interface VpnScenario {
  label: string;
  faults: string[];
  truth: VpnTruth;
  /** Run netdoctor with the tls-auth instance: 'key' signs, 'no-key' does not. */
  tlsAuth: false | 'key' | 'no-key';
  /** nmap has nothing to sign with: the keyed and unkeyed tls-auth scenarios are the same to it, measured once. */
  nmap: boolean;
}

const VPN_SCENARIOS: VpnScenario[] = [
  { label: 'healthy', faults: [], truth: 'up', tlsAuth: false, nmap: true },
  { label: 'vpn-down (server stopped, Pi up)', faults: ['vpn-down'], truth: 'down', tlsAuth: false, nmap: true },
  { label: 'tls-auth server, netdoctor given the key', faults: [], truth: 'up', tlsAuth: 'key', nmap: true },
  { label: 'tls-auth server, no key (unsigned)', faults: [], truth: 'up', tlsAuth: 'no-key', nmap: false },
];

interface LabVpn {
  address: string;
  port: number;
  hostname: string;
  resolver: string;
  publicIpUrl: string;
}

function labFacts(yamlText: string): LabVpn {
  const doc = (YAML.parse(yamlText) ?? {}) as {
    hosts?: Array<{ name: string; ip: string }>;
    vpn?: { host?: string; port?: number };
    ddns?: { hostname?: string; resolvers?: string[]; publicIp?: string[] };
  };
  const host = doc.hosts?.find((h) => h.name === doc.vpn?.host);
  return {
    address: host?.ip ?? '192.168.1.20',
    port: doc.vpn?.port ?? 1194,
    hostname: doc.ddns?.hostname ?? 'home.dyn.example.net',
    resolver: doc.ddns?.resolvers?.[0] ?? '203.0.113.53',
    publicIpUrl: doc.ddns?.publicIp?.[0] ?? 'http://203.0.113.1/',
  };
}

/** The VPN config for a scenario: the lab's, or pointed at the tls-auth instance with its key. */
function vpnYaml(yamlText: string, tls: { keyFile: string; direction: number; digest: string; port: number } | undefined, withKey: boolean): string {
  if (!tls) return yamlText;
  const key = withKey ? `, tlsAuth: { file: ${tls.keyFile}, direction: ${tls.direction}, digest: ${tls.digest} }` : '';
  return yamlText.replace(/forwards: \[.*\]/, 'forwards: []').replace(/^vpn: .*$/m, `vpn: { host: pi-vpn, proto: udp, port: ${tls.port}${key} }`);
}

/** netdoctor's VPN verdict for the VPN host's own address: up (answered), down (refused / nobody), unknown. */
export function netdoctorVpnVerdict(obs: readonly ObsLite[]): VpnTruth | 'unknown' | 'none' {
  const o = obs.find((x) => x.probe === 'vpn' && x.check === 'handshake' && x.labels.target === 'expected');
  if (!o) return 'none';
  if (o.reason === 'answered') return 'up';
  if (o.reason === 'refused' || o.reason === 'host-unreachable') return 'down';
  return 'unknown';
}

/** nmap's line for the port: `1194/udp open openvpn OpenVPN` → up; `closed` → down; `open|filtered` → unknown. */
export function nmapVpnVerdict(out: string, port: number): VpnTruth | 'unknown' {
  const line = out.split('\n').find((l) => l.startsWith(`${port}/udp `)) ?? '';
  const state = line.split(/\s+/)[1] ?? '';
  if (state === 'open' && /openvpn/i.test(line)) return 'up';
  if (state === 'closed') return 'down';
  return 'unknown';
}

/**
 * Correct over all runs: null when no run gave a verdict, true when every run
 * gave the right one, false otherwise (a wrong verdict, or none where one was
 * possible — nmap's UDP scan loses to ICMP rate limiting now and then).
 */
export function correctOverRuns(verdicts: readonly string[], truth: string): boolean | null {
  if (verdicts.length === 0 || verdicts.every((v) => v === 'unknown')) return null;
  return verdicts.every((v) => v === truth);
}

function parseObservations(stdout: string, fromCheck: boolean): ObsLite[] | undefined {
  try {
    const parsed = JSON.parse(stdout) as { observations?: ObsLite[] } | ObsLite[];
    return fromCheck ? (parsed as { observations?: ObsLite[] }).observations : (parsed as ObsLite[]);
  } catch {
    return undefined;
  }
}

export const vpnBench: BenchFn = async (lab: BenchLab, { runs, log }) => {
  const baseYaml = lab.configYaml();
  const facts = labFacts(baseYaml);
  const tls = Lab.open(lab.prefix).tlsAuth;
  const rows: BenchRow[] = [];
  const figures: Array<{ name: string; value: string }> = [];
  const notes: string[] = [
    `VPN: netdoctor's verdict is its \`expected\` handshake to ${facts.address} (the probe also checks the port-forward target in the same time); nmap: \`nmap -sU -sV -n -Pn -p PORT ${facts.address}\`, read as open+openvpn = up, closed = down, open|filtered = no verdict.`,
    `On the tls-auth port nmap (which cannot sign) gets silence, tries every UDP service probe and ends with open|filtered: measured ${SLOW_RUNS} time(s) only. netdoctor without the key says "unknown (tls-auth?)" after its 4 s wait (row "no key"); with the key it answers.`,
    `DDNS: netdoctor's verdict is its \`record\` observation (current/stale, asked at ${facts.resolver}, also CGNAT and the public address); by hand: \`dig +short ${facts.hostname} @${facts.resolver}; curl -s ${facts.publicIpUrl}\` (wget -qO- where curl is not installed), correct when "the two agree" matches the truth.`,
    'Correct: null when the tool gives no verdict in any run; false when any run gave a wrong verdict or none where one was possible.',
    'nmap with vpn-down sometimes ends open|filtered instead of closed: Linux rate-limits ICMP port unreachable per destination (a burst of 6, then 1 a second) and nmap\'s retries spend it. netdoctor sends one reset and retransmits after 1 s, so it meets the limit far less often.',
  ];
  /** netdoctor as a user runs it (`check`), then the probe alone; `verdict` reads one run's observations. */
  const timeNetdoctor = async (scenario: string, probe: 'vpn' | 'ddns', configPath: string, verdict: (obs: ObsLite[]) => string, truth: string, n: number): Promise<BenchRow[]> => {
    const out: BenchRow[] = [];
    const measure = async (tool: string, fromCheck: boolean, once: () => Promise<{ code: number; stdout: string; stderr: string }>) => {
      const seen = new Set<string>();
      const verdicts: string[] = [];
      const r = await timeRuns(n, once, (res) => {
        const obs = parseObservations(res.stdout, fromCheck);
        const mine = obs?.filter((o) => o.probe === probe && o.check !== 'probe') ?? [];
        if (!obs || mine.length === 0) {
          seen.add(`exit ${res.code}: ${(res.stderr || res.stdout).trim().split('\n')[0]?.slice(0, 120) || 'no observations'}`);
          verdicts.push('none');
          return false;
        }
        seen.add(mine.map((o) => `${o.check} ${o.labels.target ?? o.subject} ${o.reason}`).join(', '));
        verdicts.push(verdict(obs));
        return true;
      });
      return { tool, samplesMs: r.samplesMs, verdicts, note: [...seen].join(' | ') };
    };
    const c = await measure(`netdoctor check --only ${probe}`, true, () =>
      lab.runNetdoctor('client', ['check', '--only', probe, '--json', '--config', configPath], { timeoutMs: TOOL_TIMEOUT_MS }),
    );
    out.push({ scenario, tool: c.tool, samplesMs: c.samplesMs, correct: correctOverRuns(c.verdicts, truth), note: c.note });
    const d = await measure(`netdoctor ${probe} probe alone (node + runner)`, false, () =>
      lab.exec('client', probeAloneArgv(probe, configPath), { timeoutMs: TOOL_TIMEOUT_MS }),
    );
    out.push({ scenario, tool: d.tool, samplesMs: d.samplesMs, correct: correctOverRuns(d.verdicts, truth), note: d.note });
    return out;
  };

  // ---------------------------------------------------------------- VPN
  for (const sc of VPN_SCENARIOS) {
    await lab.heal();
    if (sc.faults.length) await lab.fault(...sc.faults);
    log(`vpn bench: ${sc.label}`);
    const scenario = `VPN verdict, ${sc.label}`;
    const configPath = lab.writeConfig(vpnYaml(baseYaml, sc.tlsAuth ? tls : undefined, sc.tlsAuth === 'key'));
    const port = sc.tlsAuth ? tls.port : facts.port;
    const ours = await timeNetdoctor(scenario, 'vpn', configPath, netdoctorVpnVerdict, sc.truth, runs);
    rows.push(...ours);
    if (!sc.nmap) continue;

    const seen = new Set<string>();
    const verdicts: string[] = [];
    const nmap = await timeRuns(
      sc.tlsAuth ? SLOW_RUNS : runs,
      () => lab.exec('client', ['nmap', '-sU', '-sV', '-n', '-Pn', '-p', String(port), facts.address], { timeoutMs: TOOL_TIMEOUT_MS }),
      (res) => {
        verdicts.push(nmapVpnVerdict(res.stdout, port));
        seen.add(res.stdout.split('\n').find((l) => l.startsWith(`${port}/udp `))?.replace(/\s+/g, ' ').trim() ?? `exit ${res.code}`);
        return true;
      },
    );
    rows.push({ scenario, tool: `nmap -sU -sV -p ${port}`, samplesMs: nmap.samplesMs, correct: correctOverRuns(verdicts, sc.truth), note: [...seen].join(' | ') });
    const ref = ours[0];
    figures.push({ name: `${sc.label}: nmap median / ${ref.tool} median`, value: `${(median(nmap.samplesMs) / median(ref.samplesMs)).toFixed(2)}x` });
  }

  // ---------------------------------------------------------------- DDNS
  const configPath = lab.writeConfig(baseYaml);
  for (const [label, faults, current] of [['healthy', [], true], ['ddns-stale (WAN address moved, record not)', ['ddns-stale'], false]] as const) {
    await lab.heal();
    if (faults.length) await lab.fault(...faults);
    log(`ddns bench: ${label}`);
    const scenario = `DDNS verdict, ${label}`;
    const truth = current ? 'current' : 'stale';
    const ours = await timeNetdoctor(scenario, 'ddns', configPath, (obs) => obs.find((o) => o.probe === 'ddns' && o.check === 'record')?.reason ?? 'unknown', truth, runs);
    rows.push(...ours);
    const seen = new Set<string>();
    const byHand = await timeRuns(
      runs,
      () => lab.exec('client', ['sh', '-c', `dig +short ${facts.hostname} @${facts.resolver}; if command -v curl >/dev/null; then curl -s --max-time 10 ${facts.publicIpUrl}; else wget -q -T 10 -O - ${facts.publicIpUrl}; fi`], { timeoutMs: TOOL_TIMEOUT_MS }),
      (res) => {
        const [published, actual] = res.stdout.trim().split('\n').map((s) => s.trim());
        seen.add(`published ${published ?? '?'}, actual ${actual ?? '?'}`);
        return !!published && !!actual && (published === actual) === current;
      },
    );
    rows.push({ scenario, tool: 'dig +short … ; curl -s … (by hand)', ...byHand, note: [...seen].join(' | ') });
    figures.push({ name: `${label}: dig+curl median / ${ours[0].tool} median`, value: `${(median(byHand.samplesMs) / median(ours[0].samplesMs)).toFixed(2)}x` });
  }
  await lab.heal();
  return { title: 'VPN and DDNS probes: time to verdict', rows, figures, notes };
};

export default vpnBench;
