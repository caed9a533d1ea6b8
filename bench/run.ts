/**
 * `npm run bench`: builds one lab, runs every benchmark section against it in
 * turn — netdoctor side by side with the tools people would otherwise use —
 * and writes docs/benchmarks.md (medians, ratios, correctness, the machine,
 * the date). Benchmarks are not tests: they measure; a section that fails is
 * reported in the document, and the others still run.
 *
 *   npm run bench                       every section, 5 runs each
 *   npm run bench -- --runs 9 --only dhcp,dns    (writes .bench-build/benchmarks-dhcp-dns.md)
 *   npm run bench -- --only dns --prefix hb      (its own lab prefix, beside another bench run)
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { LabGuest } from '../src/lab/guest.js';
import { Lab, labUnavailableReason } from '../src/lab/lab.js';
import type { LabNode } from '../src/lab/topology.js';
import { PACKAGE_ROOT, VERSION } from '../src/version.js';
import { checkBench } from './check.js';
import { dhcpBench } from './dhcp.js';
import { dnsBench } from './dns.js';
import { benchEngine } from './engine.js';
import { fuzzBench } from './fuzz.js';
import { hostsBench } from './hosts.js';
import { LAB_BENCH_PREFIX, labBench } from './lab.js';
import { reportBench } from './report.js';
import { scaleBench } from './scale.js';
import { median, type BenchFn, type BenchLab, type BenchSection } from './types.js';
import { vpnBench } from './vpn.js';

const SECTIONS: Array<{ name: string; needsLab: boolean; fn: BenchFn }> = [
  // Builds its own lab (another prefix); needs root and the lab packages like the others, but not the shared lab.
  { name: 'lab', needsLab: false, fn: labBench },
  { name: 'dhcp', needsLab: true, fn: dhcpBench },
  { name: 'hosts', needsLab: true, fn: hostsBench },
  { name: 'dns', needsLab: true, fn: dnsBench },
  { name: 'vpn', needsLab: true, fn: vpnBench },
  { name: 'check', needsLab: true, fn: checkBench },
  // Builds its own scale lab (a /22 with up to 1,000 devices), like 'lab'.
  { name: 'scale', needsLab: false, fn: scaleBench },
  { name: 'engine', needsLab: false, fn: (lab, opts) => benchEngine(lab, opts) },
  { name: 'report', needsLab: false, fn: reportBench },
  { name: 'fuzz', needsLab: false, fn: fuzzBench },
];

function parseArgs(argv: string[]): { runs: number; only?: string[]; out: string; prefix: string } {
  let runs = 5;
  let prefix = 'bench';
  let only: string[] | undefined;
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--runs') runs = Number(argv[++i]);
    else if (a === '--only') only = argv[++i].split(',');
    else if (a === '--out') out = argv[++i];
    else if (a === '--prefix') prefix = argv[++i];
    else if (a === '--help' || a === '-h') {
      process.stdout.write(`usage: npm run bench -- [--runs N] [--only ${SECTIONS.map((s) => s.name).join(',')}] [--out FILE] [--prefix LAB (default bench)]\nWithout --only it writes docs/benchmarks.md; with --only, .bench-build/benchmarks-<sections>.md.\n`);
      process.exit(0);
    } else {
      process.stderr.write(`bench: unknown argument ${JSON.stringify(a)} (try --help)\n`);
      process.exit(3);
    }
  }
  if (!Number.isInteger(runs) || runs < 1) {
    process.stderr.write(`bench: --runs ${JSON.stringify(String(runs))} is not a positive whole number\n`);
    process.exit(3);
  }
  const unknown = only?.filter((n) => !SECTIONS.some((s) => s.name === n)) ?? [];
  if (unknown.length) {
    process.stderr.write(`bench: --only ${unknown.join(',')}: not a section (sections: ${SECTIONS.map((s) => s.name).join(', ')})\n`);
    process.exit(3);
  }
  // docs/benchmarks.md is the whole comparison: a run of some sections writes beside the build instead of cutting the others out of it.
  out ??= only ? join(PACKAGE_ROOT, '.bench-build', `benchmarks-${only.join('-')}.md`) : join(PACKAGE_ROOT, 'docs', 'benchmarks.md');
  return { runs, only, out, prefix };
}

function benchLab(lab: Lab): BenchLab {
  const guest = new LabGuest(lab);
  return {
    prefix: lab.prefix,
    exec: (node, argv, opts = {}) => guest.exec(node as LabNode, argv, opts),
    fault: (...names) => lab.fault(...names),
    heal: () => lab.heal(),
    configYaml: () => lab.configYaml(),
    writeConfig: (yaml) => guest.writeConfig(yaml),
    runNetdoctor: (node, args, opts = {}) => guest.runNetdoctor(node as LabNode, args, opts),
  };
}

const ms = (x: number) => (x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(x < 10 ? 2 : 0)} ms`);

function renderSection(s: BenchSection): string {
  const out = [`## ${s.title}`, ''];
  if (s.rows.length) {
    out.push('| scenario | tool | median | runs | ÷ netdoctor | correct |', '|---|---|---:|---:|---:|---|');
    for (const r of s.rows) {
      const nd = s.rows.find((x) => x.scenario === r.scenario && x.tool.startsWith('netdoctor'));
      const ratio = nd && nd !== r && r.samplesMs.length && nd.samplesMs.length ? `${(median(r.samplesMs) / median(nd.samplesMs)).toFixed(2)}×` : '';
      const correct = r.correct === null ? '—' : r.correct ? 'yes' : 'no';
      out.push(`| ${r.scenario} | ${r.tool} | ${r.samplesMs.length ? ms(median(r.samplesMs)) : '—'} | ${r.samplesMs.length} | ${ratio} | ${correct}${r.note ? ` (${r.note})` : ''} |`);
    }
    out.push('');
  }
  if (s.figures?.length) {
    for (const f of s.figures) out.push(`- ${f.name}: **${f.value}**`);
    out.push('');
  }
  for (const n of s.notes ?? []) out.push(`> ${n}`, '');
  return out.join('\n');
}

function machine(): string {
  const cpu = cpus();
  let debian = '';
  try {
    debian = execFileSync('sh', ['-c', '. /etc/os-release && echo "$PRETTY_NAME"'], { encoding: 'utf8' }).trim();
  } catch {
    // Not every system has os-release; the kernel line below still says what it ran on.
  }
  return `${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${debian || 'Linux'} (kernel ${release()}), Node ${process.version}`;
}

async function main(): Promise<void> {
  const { runs, only, out, prefix } = parseArgs(process.argv.slice(2));
  const chosen = SECTIONS.filter((s) => !only || only.includes(s.name));
  const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
  const started = new Date();
  const rendered: string[] = [];

  let lab: Lab | undefined;
  const teardown = () => {
    lab?.downSync();
    if (Lab.exists(LAB_BENCH_PREFIX)) Lab.open(LAB_BENCH_PREFIX).downSync();
  };
  process.once('SIGINT', () => {
    teardown();
    process.exit(130);
  });
  try {
    if (chosen.some((s) => s.needsLab)) {
      const why = labUnavailableReason();
      if (why) throw new Error(`the benchmarks need the lab: ${why}`);
      log(`building the lab (prefix ${prefix})`);
      lab = await Lab.up(prefix);
    }
    const blab = lab ? benchLab(lab) : (undefined as unknown as BenchLab);
    for (const s of chosen) {
      log(`section ${s.name}`);
      const t0 = Date.now();
      try {
        if (lab) await lab.heal();
        rendered.push(renderSection(await s.fn(blab, { runs, log })));
      } catch (err) {
        rendered.push(`## ${s.name}\n\nThis section failed: ${(err as Error).message}\n`);
        log(`section ${s.name} failed: ${(err as Error).stack ?? err}`);
      }
      log(`section ${s.name} done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    }
  } finally {
    if (lab) await lab.down();
  }

  const doc = [
    '# Benchmarks',
    '',
    `Generated by \`npm run bench\` (netdoctor ${VERSION}) on ${started.toISOString().slice(0, 10)}, ${runs} runs per figure unless a row says otherwise; figures are medians.`,
    `Machine: ${machine()}.`,
    '',
    'Every network tool ran inside the lab (network namespaces on this machine, real dnsmasq, OpenVPN and HTTP servers), in the same run as netdoctor.',
    'netdoctor is timed as a user runs it: the built CLI, Node start-up included. "÷ netdoctor" is the tool\'s median divided by netdoctor\'s in the same scenario: above 1 means netdoctor was faster.',
    '',
    ...rendered,
  ].join('\n');
  writeFileSync(out, `${doc.trimEnd()}\n`);
  log(`wrote ${out}`);
}

await main();
