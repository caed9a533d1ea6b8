/**
 * The one run pipeline (src/run/pipeline.ts) as the commands drive it: the
 * options a probe sees come from the command's flags, the UI's included.
 */
import { describe, expect, it } from 'vitest';
import { liveSource, uiRequest } from '../../src/commands/tui.js';
import type { Probe, ProbeContext } from '../../src/probes/types.js';
import { buildProgram } from '../../src/program.js';
import { openPipeline } from '../../src/run/pipeline.js';
import { configFrom } from '../support/config.js';

const config = configFrom('site: test\n');

/** A probe that reports the options it was handed, as an observation. */
function optionsReporter(seen: Array<Record<string, unknown>>): Probe {
  return {
    name: 'hosts',
    title: 'hosts',
    vantages: ['inside'],
    async run(ctx: ProbeContext) {
      seen.push(ctx.options);
      ctx.emit({ check: 'options', subject: 'hosts', status: 'ok', reason: 'seen', summary: `force=${String(ctx.options.force)}` });
    },
  };
}

async function uiRun(force: boolean | undefined): Promise<{ seen: Array<Record<string, unknown>>; summaries: string[] }> {
  const seen: Array<Record<string, unknown>> = [];
  const pipeline = await openPipeline({ ...uiRequest({ force }, config), probes: [optionsReporter(seen)] });
  try {
    const source = liveSource(pipeline);
    // Two refreshes: every run of the UI gets the flag, not only the first.
    const runs = [await source.run(new AbortController().signal, () => {}), await source.run(new AbortController().signal, () => {})];
    return { seen, summaries: runs.map((r) => r.result.observations[0].summary) };
  } finally {
    pipeline.close();
  }
}

describe('the run pipeline', () => {
  it('the UI passes --force through to the probes, on every refresh', async () => {
    const { seen, summaries } = await uiRun(true);
    expect(seen).toEqual([{ force: true }, { force: true }]);
    expect(summaries).toEqual(['force=true', 'force=true']);
  });

  it('without --force the UI hands force=false', async () => {
    expect((await uiRun(undefined)).seen).toEqual([{ force: false }, { force: false }]);
  });

  it('the UI command line accepts --force', () => {
    expect(buildProgram().options.map((o) => o.long)).toContain('--force');
  });

  it('diagnoses every run it makes', async () => {
    const pipeline = await openPipeline({ config, probes: [optionsReporter([])], deadlineMs: 5000 });
    try {
      const { result, diagnosis } = await pipeline.run();
      expect(result.observations).toHaveLength(1);
      expect(Array.isArray(diagnosis.findings)).toBe(true);
    } finally {
      pipeline.close();
    }
  });
});
