/**
 * `netdoctor demo [SCENARIO]`: the interactive UI driven by a recorded
 * scenario from fixtures/scenarios (default: the seed's unplugged-pi
 * outage). Its observations are replayed as runner events at the pace they
 * were recorded — spinners, results arriving probe by probe, then the
 * diagnosis — and `r` replays it. No network, no root: this is what
 * `npm start` runs, and it must work anywhere. Without a terminal it prints
 * the replayed diagnosis as text and exits 0.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { diagnose } from '../diagnose/index.js';
import { buildCheckReport } from '../report/json.js';
import { renderText } from '../report/text.js';
import { whyNotInteractive } from '../report/tui/terminal.js';
import { UsageError } from '../shared/errors.js';
import { clipWords, firstSentenceOf } from '../shared/text.js';
import { VERSION } from '../version.js';
import { loadScenario, scenarioNames, scenariosDir } from './diagnose.js';

export const DEFAULT_SCENARIO = 'unplugged-pi';

export interface DemoOptions {
  scenario?: string;
  list?: boolean;
  speed?: number;
}

export async function run(opts: DemoOptions): Promise<number> {
  const dir = scenariosDir();
  if (opts.list) {
    process.stdout.write(listScenarios(dir));
    return 0;
  }
  const speed = opts.speed ?? 1;
  if (!Number.isFinite(speed) || speed <= 0) throw new UsageError(`--speed ${JSON.stringify(String(opts.speed))} is not a positive number (expected e.g. 0.5, 1 or 4)`);
  const scenario = loadScenario(opts.scenario ?? DEFAULT_SCENARIO, dir);
  const recorded = scenario.run.startedAt.slice(0, 10);
  const site = scenario.run.site ?? scenario.config.site;

  if (whyNotInteractive() !== undefined) {
    const report = buildCheckReport(VERSION, scenario.config, scenario.run, diagnose(scenario.run.observations, scenario.config));
    report.site = site;
    process.stdout.write(`netdoctor demo: the recorded scenario ${scenario.name} (${recorded}), replayed without touching the network\n\n`);
    process.stdout.write(renderText(report, { color: false }));
    return 0;
  }

  const { startTui, replaySource } = await import('../report/tui/index.js');
  await startTui({
    source: replaySource({ result: scenario.run, diagnosis: diagnose(scenario.run.observations, scenario.config) }, { speed }),
    info: { site, iface: scenario.config.interface, vantage: scenario.run.vantage, label: `demo: ${scenario.name} (recorded ${recorded})` },
    refreshMs: scenario.config.tui.refreshMs,
  });
  return 0;
}

/** One line per scenario: its name and the first sentence of its README. */
export function listScenarios(dir: string): string {
  const names = scenarioNames(dir);
  const width = Math.max(...names.map((n) => n.length)) + 2;
  const lines = names.map((name) => {
    const about = firstSentence(join(dir, name, 'README.md'));
    const tag = name === DEFAULT_SCENARIO ? ' (default)' : '';
    return `  ${name.padEnd(width)}${about}${tag}`;
  });
  return `Recorded scenarios (netdoctor demo NAME; colour off with NO_COLOR=1):\n${lines.join('\n')}\n`;
}

function firstSentence(readme: string): string {
  let text: string;
  try {
    text = readFileSync(readme, 'utf8');
  } catch {
    return '';
  }
  const para = text.split(/\n\s*\n/).map((p) => p.trim()).find((p) => p && !p.startsWith('#')) ?? '';
  const flat = para.replace(/\s+/g, ' ').replace(/`/g, '');
  return clipWords(firstSentenceOf(flat), 100);
}
