/**
 * DNS: time to a verdict, and whether it is the right one, for netdoctor and
 * the tools a person would reach for — `dig` and the monitoring-plugins
 * `check_dig` — in the same lab run, healthy and with every DNS server dead
 * (port closed: `dns-down`; address silent: `unplugged-pi`).
 *
 * Every tool runs inside the lab's `client` node. netdoctor is timed as a
 * user runs it (`check --only dns --json`, node start-up included) and, in a
 * second row, as the probe alone under the runner (still a fresh node
 * process), which isolates the probe from the CLI around it. For the two dead
 * scenarios a "dead-DNS verdict" figure sets the medians side by side.
 */
import YAML from 'yaml';
import { sleep } from '../src/shared/wait.js';
import { probeAloneArgv } from './probe-alone.js';
import { median, timeRuns, type BenchFn, type BenchRow } from './types.js';

type Truth = 'healthy' | 'refused' | 'unreachable';

/**
 * The kernel rate-limits ICMP port unreachable per peer (a burst of about 6, then 1 per second):
 * back-to-back runs against a closed port drain it, and the next tool would wait out timeouts
 * it would not meet on a quiet network. Between samples of such scenarios, an untimed pause.
 */
const ICMP_REFILL_MS = 7000;

interface Scenario {
  name: string;
  faults: string[];
  /** What every configured DNS server really is in this scenario. */
  truth: Truth;
  label: string;
  /** Untimed pause before each sample. */
  settleMs?: number;
}

const SCENARIOS: Scenario[] = [
  { name: 'healthy', faults: [], truth: 'healthy', label: 'healthy' },
  { name: 'dns-down', faults: ['dns-down'], truth: 'refused', label: 'all servers dead: port closed (dns-down)', settleMs: ICMP_REFILL_MS },
  { name: 'unplugged-pi', faults: ['unplugged-pi'], truth: 'unreachable', label: 'all servers dead: address silent (unplugged-pi)' },
];

const CHECK_DIG = '/usr/lib/nagios/plugins/check_dig';
/** dig's defaults are 3 tries of 5 s; check_dig's 10 s. Leave room above them. */
const TOOL_TIMEOUT_MS = 40_000;


async function timeSettled<T>(runs: number, settleMs: number, fn: () => Promise<T>, check: (r: T) => boolean): Promise<{ samplesMs: number[]; correct: boolean }> {
  if (settleMs <= 0) return timeRuns(runs, fn, check);
  const samplesMs: number[] = [];
  let correct = true;
  for (let i = 0; i < runs; i++) {
    await sleep(settleMs);
    const one = await timeRuns(1, fn, check);
    samplesMs.push(...one.samplesMs);
    correct &&= one.correct;
  }
  return { samplesMs, correct };
}

interface LabDns {
  servers: string[];
  records: Record<string, string>;
  external: string[];
  hostIps: string[];
}

function labDns(yamlText: string): LabDns {
  const doc = (YAML.parse(yamlText) ?? {}) as {
    dns?: { servers?: string[]; records?: Record<string, string>; external?: string[] };
    router?: { dnsServer?: string };
    hosts?: Array<{ ip: string }>;
  };
  const servers = [...new Set([...(doc.dns?.servers ?? []), ...(doc.router?.dnsServer ? [doc.router.dnsServer] : [])])];
  return { servers, records: doc.dns?.records ?? {}, external: doc.dns?.external ?? ['example.com'], hostIps: (doc.hosts ?? []).map((h) => h.ip) };
}

interface DnsObs {
  probe: string;
  check: string;
  subject: string;
  reason: string;
}

/** Server → reason, from the dns `server` observations. */
function serverVerdicts(observations: readonly DnsObs[]): Map<string, string> {
  return new Map(observations.filter((o) => o.probe === 'dns' && o.check === 'server').map((o) => [o.subject, o.reason]));
}

function netdoctorCorrect(verdicts: Map<string, string>, lab: LabDns, truth: Truth): boolean {
  return lab.servers.length > 0 && lab.servers.every((s) => verdicts.get(s) === truth);
}

/** dig's verdict from its text output: what a person reading it would conclude. */
export function digVerdict(out: string): Truth | 'other' {
  if (/connection refused/i.test(out)) return 'refused';
  if (/timed out|no servers could be reached|host unreachable|network unreachable/i.test(out)) return 'unreachable';
  if (/status: NOERROR/.test(out)) return 'healthy';
  return 'other';
}

export const dnsBench: BenchFn = async (lab, { runs, log }) => {
  const yamlText = lab.configYaml();
  const dns = labDns(yamlText);
  const configPath = lab.writeConfig(yamlText);
  const [recordName, recordIp] = Object.entries(dns.records)[0] ?? ['pi-vpn.home', '192.168.1.20'];
  const server = dns.servers[0] ?? '192.168.1.10';
  const questions = Object.keys(dns.records).length + dns.external.length + dns.hostIps.length;
  const rows: BenchRow[] = [];
  const notes: string[] = [
    `Servers asked: ${dns.servers.join(', ') || '(none)'}; netdoctor asks all ${questions} questions of each (records, external names, PTR of every host) in parallel under the run deadline.`,
    `dig and check_dig ask one question (${recordName} A, expecting ${recordIp}) of ${server}, with their default timeouts — the quickest thing a person would type.`,
    `Before each sample of the closed-port scenario an untimed ${ICMP_REFILL_MS / 1000} s pause: the kernel rate-limits ICMP port unreachable per peer, and without it each tool would inherit a budget drained by the one before.`,
    'Correct means: netdoctor names every server healthy / refused / unreachable as the lab really is; dig and check_dig print a result from which a reader would conclude the same (exit status and message).',
  ];
  const figures: Array<{ name: string; value: string }> = [];

  for (const sc of SCENARIOS) {
    await lab.heal();
    if (sc.faults.length) await lab.fault(...sc.faults);
    log(`dns bench: ${sc.label}`);
    const seen: Record<string, Set<string>> = {};
    const remember = (tool: string, what: string) => (seen[tool] ??= new Set()).add(what);

    const check = await timeSettled(
      runs, sc.settleMs ?? 0,
      () => lab.runNetdoctor('client', ['check', '--only', 'dns', '--json', '--config', configPath], { timeoutMs: TOOL_TIMEOUT_MS }),
      (res) => {
        try {
          const verdicts = serverVerdicts((JSON.parse(res.stdout) as { observations: DnsObs[] }).observations);
          remember('check', [...verdicts].map(([s, v]) => `${s} ${v}`).join(', '));
          return netdoctorCorrect(verdicts, dns, sc.truth);
        } catch {
          remember('check', `exit ${res.code}: ${(res.stderr || res.stdout).trim().split('\n')[0]}`);
          return false;
        }
      },
    );
    const ours: BenchRow = { scenario: `DNS verdict, ${sc.label}`, tool: 'netdoctor check --only dns', ...check, note: [...(seen.check ?? [])].join(' | ') };
    rows.push(ours);

    const direct = await timeSettled(
      runs, sc.settleMs ?? 0,
      () => lab.exec('client', probeAloneArgv('dns', configPath), { timeoutMs: TOOL_TIMEOUT_MS }),
      (res) => {
        try {
          const verdicts = serverVerdicts(JSON.parse(res.stdout) as DnsObs[]);
          remember('direct', [...verdicts].map(([s, v]) => `${s} ${v}`).join(', '));
          return netdoctorCorrect(verdicts, dns, sc.truth);
        } catch {
          remember('direct', `exit ${res.code}: ${res.stderr.trim().split('\n')[0]}`);
          return false;
        }
      },
    );
    rows.push({ scenario: `DNS verdict, ${sc.label}`, tool: 'netdoctor dns probe alone (node + runner)', ...direct, note: [...(seen.direct ?? [])].join(' | ') });

    const dig = await timeSettled(
      runs, sc.settleMs ?? 0,
      () => lab.exec('client', ['dig', `@${server}`, recordName, 'A'], { timeoutMs: TOOL_TIMEOUT_MS }),
      (res) => {
        const v = digVerdict(res.stdout + res.stderr);
        remember('dig', `exit ${res.code} → ${v}`);
        if (sc.truth === 'healthy') return v === 'healthy' && new RegExp(`\\s${recordIp.replace(/\./g, '\\.')}\\s*$`, 'm').test(res.stdout);
        return v === sc.truth;
      },
    );
    rows.push({ scenario: `DNS verdict, ${sc.label}`, tool: `dig @${server} ${recordName} (defaults: 3 tries x 5 s)`, ...dig, note: [...(seen.dig ?? [])].join(' | ') });

    const checkDig = await timeSettled(
      runs, sc.settleMs ?? 0,
      () => lab.exec('client', [CHECK_DIG, '-H', server, '-l', recordName, '-a', recordIp], { timeoutMs: TOOL_TIMEOUT_MS }),
      (res) => {
        const text = res.stdout + res.stderr;
        remember('check_dig', `exit ${res.code}: ${text.trim().split('\n')[0].slice(0, 100)}`);
        if (sc.truth === 'healthy') return res.code === 0;
        return res.code === 2 && (sc.truth === 'refused' ? /refused/i.test(text) : /timed out|unreachable|no servers/i.test(text));
      },
    );
    rows.push({ scenario: `DNS verdict, ${sc.label}`, tool: 'check_dig -H … -l … -a … (default 10 s)', ...checkDig, note: [...(seen.check_dig ?? [])].join(' | ') });

    if (sc.truth !== 'healthy') {
      // The yardstick (#20): the time to call a dead server dead, target at most 1.5 s.
      const s = (xs: number[]) => `${(median(xs) / 1000).toFixed(2)} s`;
      figures.push({
        name: `dead-DNS verdict, ${sc.label} (target ≤ 1.5 s)`,
        value: `netdoctor check ${s(ours.samplesMs)}${ours.correct ? '' : ' (wrong verdict)'}, probe alone ${s(direct.samplesMs)}, dig ${s(dig.samplesMs)}, check_dig ${s(checkDig.samplesMs)}`,
      });
    }
    // Ratios against netdoctor as a user runs it (`check`).
    figures.push({
      name: `${sc.label}: median time of dig, check_dig relative to ${ours.tool}`,
      value: `dig ${(median(dig.samplesMs) / median(ours.samplesMs)).toFixed(2)}x, check_dig ${(median(checkDig.samplesMs) / median(ours.samplesMs)).toFixed(2)}x`,
    });
  }
  await lab.heal();
  return { title: 'DNS probe: time to verdict', rows, figures, notes };
};

export default dnsBench;
