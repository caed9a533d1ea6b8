/**
 * Claims without evidence (issue 21, item 4): fixes name dnsmasq only when the
 * probe identified the server as dnsmasq, and "answers local names" is said
 * only when a local name was asked and answered. Recorded lab scenarios.
 */
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/diagnose/index.js';
import { recordedScenario } from '../support/scenarios.js';

function findingsOf(name: string, edit: (o: { probe: string; check: string; data?: unknown; kind?: string }) => void = () => {}) {
  const s = recordedScenario(name);
  const observations = s.run.observations.map((o) => structuredClone(o));
  for (const o of observations) edit(o as never);
  return diagnose(observations, s.config).findings;
}

describe('DNS fixes name dnsmasq only when the server is known to be dnsmasq', () => {
  it('dns-down, server software unknown: the restart fix finds the server on port 53 first and never says dnsmasq', () => {
    const root = findingsOf('dns-down').find((f) => f.id === 'dns-server-down')!;
    // dnsmasq may appear among candidates to look for, never as the server to restart or read.
    const text = JSON.stringify(root.fixes);
    expect(text).not.toMatch(/restart dnsmasq|-u dnsmasq|\/etc\/dnsmasq/);
    expect(root.fixes.map((f) => f.title).join(' ')).not.toMatch(/dnsmasq/);
    expect(root.fixes[0].title).toBe('Restart the DNS server on pi-dns');
  });

  it('dns-down, the probe identified dnsmasq: the dnsmasq restart', () => {
    const root = findingsOf('dns-down', (o) => {
      if (o.probe === 'dns' && o.check === 'server') o.data = { ...(o.data as object), software: 'dnsmasq-2.90' };
    }).find((f) => f.id === 'dns-server-down')!;
    expect(root.fixes[0].title).toBe('Restart the DNS server (dnsmasq) on pi-dns');
    expect(root.fixes[0].snippet?.text).toContain('sudo systemctl restart dnsmasq');
  });
});
