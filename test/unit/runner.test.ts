import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { runProbes, selectProbes } from '../../src/probes/runner.js';
import type { Probe, ProbeName, RunEvent } from '../../src/probes/types.js';
import { UsageError } from '../../src/shared/errors.js';
import { configFrom } from '../support/config.js';

const config = configFrom('site: test\n');

function probe(name: ProbeName, run: Probe['run'], vantages: Probe['vantages'] = ['inside']): Probe {
  return { name, title: name, vantages, run };
}

const sleeper = (name: ProbeName, ms: number) =>
  probe(name, async (ctx) => {
    await sleep(ms, undefined, { signal: ctx.signal }); // rejects on abort: a cut sleeper never reports it rested
    ctx.emit({ check: 'nap', subject: name, status: 'ok', reason: 'rested', summary: `${name} slept ${ms} ms`, values: { ms } });
  });

function run(probes: Probe[], deadlineMs: number, extra: { only?: string[]; skip?: string[]; signal?: AbortSignal } = {}) {
  const events: RunEvent[] = [];
  const selection = selectProbes(probes, { only: extra.only, skip: extra.skip, vantage: 'inside' });
  const result = runProbes({ config, selection, vantage: 'inside', deadlineMs, signal: extra.signal, onEvent: (e) => events.push(e) });
  return { result, events };
}

describe('probe runner', () => {
  it('runs probes concurrently: three 300 ms probes take well under 900 ms', async () => {
    const t0 = Date.now();
    const { result } = run([sleeper('dhcp', 300), sleeper('dns', 300), sleeper('wan', 300)], 5000);
    const r = await result;
    const elapsed = Date.now() - t0;
    expect(r.observations.map((o) => o.reason)).toEqual(['rested', 'rested', 'rested']);
    expect(elapsed).toBeLessThan(800); // well under the 900 ms of running them one after another, with room for a loaded CI
    expect(elapsed).toBeGreaterThanOrEqual(295);
  });

  it('cuts a probe that hangs at the deadline and reports error/timeout, keeping what it emitted', async () => {
    let sawAbort = false;
    const hang = probe('dns', async (ctx) => {
      ctx.emit({ check: 'query', subject: 'first', status: 'ok', reason: 'answered', summary: 'one answer before hanging' });
      ctx.signal.addEventListener('abort', () => (sawAbort = true));
      await new Promise(() => {}); // never settles, ignores the signal
    });
    const t0 = Date.now();
    const { result, events } = run([hang, sleeper('wan', 10)], 250);
    const r = await result;
    expect(Date.now() - t0).toBeLessThan(800); // cut near the 250 ms deadline, not left hanging; room for a loaded CI
    const dns = r.observations.filter((o) => o.probe === 'dns');
    expect(dns.map((o) => [o.status, o.reason])).toEqual([['ok', 'answered'], ['error', 'timeout']]);
    expect(dns[1].summary).toMatch(/results so far are kept/);
    expect(sawAbort).toBe(true); // the probe was told to stop its sockets
    expect(events).toContainEqual(expect.objectContaining({ type: 'probe-end', probe: 'dns', outcome: 'timeout' }));
    expect(r.observations.find((o) => o.probe === 'wan')?.status).toBe('ok');
  });

  it('turns a probe that throws into an error observation; the others still run', async () => {
    const boom = probe('dhcp', async () => {
      throw new Error('EACCES: bind to port 68');
    });
    const r = await run([boom, sleeper('dns', 5)], 1000).result;
    const err = r.observations.find((o) => o.probe === 'dhcp')!;
    expect([err.status, err.reason]).toEqual(['error', 'exception']);
    expect(err.summary).toContain('EACCES: bind to port 68');
    expect(r.observations.find((o) => o.probe === 'dns')?.status).toBe('ok');
  });

  it('passes the abort signal to the probe when the user interrupts', async () => {
    const outer = new AbortController();
    let reason: unknown;
    const waits = probe('vpn', async (ctx) => {
      await new Promise<void>((res) => ctx.signal.addEventListener('abort', () => { reason = ctx.signal.reason; res(); }));
    });
    const { result } = run([waits], 5000, { signal: outer.signal });
    setTimeout(() => outer.abort(new Error('SIGINT')), 50);
    const r = await result;
    expect((reason as Error).message).toBe('SIGINT');
    expect(r.observations[0]).toMatchObject({ status: 'error', reason: 'aborted' });
  });

  it('emits progress events in order: start, observations, end', async () => {
    const { result, events } = run([sleeper('dhcp', 5)], 1000);
    await result;
    expect(events.map((e) => e.type)).toEqual(['run-start', 'probe-start', 'observation', 'probe-end', 'run-end']);
  });

  it('fills id, probe, at and durationMs, and keeps ids unique', async () => {
    const twice = probe('hosts', async (ctx) => {
      ctx.emit({ check: 'host', subject: 'pi', status: 'ok', reason: 'at-expected', summary: 'a', values: { rtt_ms: 1.5, bad: Number.NaN } });
      ctx.emit({ check: 'host', subject: 'pi', status: 'ok', reason: 'at-expected', summary: 'b' });
    });
    const r = await run([twice], 1000).result;
    expect(r.observations.map((o) => o.id)).toEqual(['hosts:host:pi', 'hosts:host:pi#2']);
    expect(r.observations[0].values).toEqual({ rtt_ms: 1.5 }); // NaN never becomes a metric
    expect(new Date(r.observations[0].at).getTime()).toBeGreaterThan(0);
  });

  it('lets a probe wait for another probe of the same run', async () => {
    const first = sleeper('dhcp', 50);
    const second = probe('dns', async (ctx) => {
      const dhcp = await ctx.resultsOf('dhcp');
      const vpn = await ctx.resultsOf('vpn');
      ctx.emit({ check: 'x', subject: 'y', status: 'ok', reason: `saw-${dhcp?.length}-${vpn === undefined}`, summary: '' });
    });
    const r = await run([first, second], 1000).result;
    expect(r.observations.find((o) => o.probe === 'dns')?.reason).toBe('saw-1-true');
  });

  it('--only and --skip select probes; the rest are recorded as skipped', async () => {
    const r = await run([sleeper('dhcp', 1), sleeper('dns', 1), sleeper('wan', 1)], 1000, { only: ['dhcp', 'dns'], skip: ['dns'] }).result;
    expect(r.observations.map((o) => `${o.probe}:${o.status}`).sort()).toEqual(['dhcp:ok', 'dns:skipped', 'wan:skipped']);
  });

  it('skips probes that do not belong to the vantage', () => {
    const sel = selectProbes([probe('dhcp', async () => {}, ['inside']), probe('vpn', async () => {}, ['inside', 'outside'])], { vantage: 'outside' });
    expect(sel.run.map((p) => p.name)).toEqual(['vpn']);
    expect(sel.skipped[0]).toMatchObject({ reason: 'other-vantage' });
  });

  it('rejects an unknown probe name with a suggestion', () => {
    expect(() => selectProbes([sleeper('dhcp', 1)], { only: ['dhpc'], vantage: 'inside' })).toThrow(UsageError);
    expect(() => selectProbes([sleeper('dhcp', 1)], { only: ['dhpc'], vantage: 'inside' })).toThrow(/did you mean "dhcp"/);
  });
});
