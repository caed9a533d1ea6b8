/**
 * Every recorded scenario in fixtures/scenarios/, replayed through the engine:
 * exactly its expected roots (in rank order, with severity and cited evidence), exactly its explanation edges,
 * its status — and, for every finding of every scenario, text a person can
 * act on: no unfilled placeholder anywhere, keys that match id and labels,
 * evidence that points at real observations.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diagnose, findingKey } from '../../src/diagnose/index.js';
import type { Finding } from '../../src/diagnose/types.js';
import { recordedScenario, SCENARIO_NAMES, SCENARIOS_DIR } from '../support/scenarios.js';

interface Expected {
  status: string;
  roots: Array<{ id: string; labels: Record<string, string>; severity: string; evidence: string[] }>;
  explains: Array<[string, string]>;
}

function load(name: string) {
  const { dir, config, run } = recordedScenario(name);
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected;
  return { config, run, expected, diagnosis: diagnose(run.observations, config) };
}

/** Every string a person may read in a finding. */
function texts(f: Finding): string[] {
  return [
    f.title,
    f.explanation,
    f.impact,
    ...Object.values(f.labels),
    ...f.fixes.flatMap((x) => [x.title, ...x.steps, x.snippet?.file ?? '', x.snippet?.text ?? '']),
  ];
}

const PLACEHOLDER = /undefined|NaN|\$\{|\[object Object\]|<[a-z][^<>\n]{0,40}>|\bnull\b|Infinity/;

describe('scenario fixtures', () => {
  it('has at least the scenarios of the issue', () => {
    for (const name of ['healthy', 'unplugged-pi', 'reservations-lost', 'dns-down', 'dns-host-down', 'isp-down', 'ddns-stale', 'vpn-down', 'rogue-dhcp', 'cgnat', 'ip-conflict', 'ddns-stale-and-dns-down']) {
      expect(SCENARIO_NAMES).toContain(name);
    }
    for (const name of SCENARIO_NAMES) {
      for (const file of ['config.yaml', 'observations.json', 'expected.json', 'README.md']) {
        expect(existsSync(join(SCENARIOS_DIR, name, file)), `${name}/${file}`).toBe(true);
      }
    }
  });

  describe.each(SCENARIO_NAMES)('%s', (name) => {
    const { run, expected, diagnosis } = load(name);
    const roots = diagnosis.findings.filter((f) => f.root);

    it('yields exactly the expected roots, in rank order', () => {
      expect(roots.map((f) => findingKey(f.id, f.labels))).toEqual(expected.roots.map((r) => findingKey(r.id, r.labels)));
    });

    it('gives each root its expected severity and cites exactly the expected observations', () => {
      const byId = new Map(run.observations.map((o) => [o.id, o]));
      const cited = (f: Finding) => [...new Set(f.evidence.map((e) => { const o = byId.get(e)!; return `${o.probe} ${o.check} ${o.subject}: ${o.status}`; }))];
      expect(roots.map((f) => ({ id: f.id, labels: f.labels, severity: f.severity, evidence: cited(f) }))).toEqual(expected.roots);
    });

    it('yields exactly the expected explanation edges', () => {
      const edges = diagnosis.findings.flatMap((f) => f.explains.map((e) => [f.key, e] as [string, string]));
      const sort = (l: Array<[string, string]>) => [...l].map((e) => e.join(' -> ')).sort();
      expect(sort(edges)).toEqual(sort(expected.explains));
    });

    it(`has status ${expected.status}`, () => {
      expect(diagnosis.status).toBe(expected.status);
    });

    it('lists roots first, and every explained finding beneath a root', () => {
      const firstExplained = diagnosis.findings.findIndex((f) => !f.root);
      if (firstExplained >= 0) expect(diagnosis.findings.slice(firstExplained).every((f) => !f.root)).toBe(true);
      const keys = new Set(diagnosis.findings.map((f) => f.key));
      expect(keys.size).toBe(diagnosis.findings.length);
      for (const f of diagnosis.findings) {
        expect(f.key).toBe(findingKey(f.id, f.labels));
        expect(f.root).toBe(f.suppressedBy.length === 0);
        for (const k of [...f.explains, ...f.suppressedBy, ...(f.rootKeys ?? [])]) expect(keys.has(k), k).toBe(true);
        if (!f.root) expect(f.rootKeys!.length).toBeGreaterThan(0);
      }
    });

    it('cites only observations of the run as evidence', () => {
      const ids = new Set(run.observations.map((o) => o.id));
      for (const f of diagnosis.findings) for (const e of f.evidence) expect(ids.has(e), `${f.key}: ${e}`).toBe(true);
    });

    it('leaves no placeholder in any text, and every finding says what to do', () => {
      for (const f of diagnosis.findings) {
        for (const t of texts(f)) expect(t, `${f.key}: ${t}`).not.toMatch(PLACEHOLDER);
        expect(f.title.length, f.key).toBeGreaterThan(10);
        expect(f.explanation.length, f.key).toBeGreaterThan(40);
        expect(f.impact.length, f.key).toBeGreaterThan(10);
        expect(f.fixes.length, f.key).toBeGreaterThan(0);
        for (const fix of f.fixes) expect(fix.steps.length, `${f.key}: ${fix.title}`).toBeGreaterThan(0);
      }
    });

    it('is the same diagnosis every time (pure)', () => {
      expect(diagnose(run.observations, load(name).config)).toEqual(diagnosis);
    });
  });
});
