/**
 * The text a person reads after `netdoctor check` or `diagnose`: status line,
 * roots first with explanation, impact and first fix, symptoms folded beneath
 * ("↳"), what could not be judged, every observation with --verbose; within
 * 80 columns; colour only when asked.
 */
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/diagnose/index.js';
import { buildCheckReport, type CheckReport } from '../../src/report/json.js';
import { renderText, wrap } from '../../src/report/text.js';
import { recordedScenario, SCENARIO_NAMES } from '../support/scenarios.js';

function report(name: string): CheckReport {
  const { config, run } = recordedScenario(name);
  return buildCheckReport('0.1.0', config, run, diagnose(run.observations, config));
}

const ESC = '\u001b[';

describe('renderText', () => {
  it.each(SCENARIO_NAMES)('%s: fits 80 columns, no colour unless asked', (name) => {
    const r = report(name);
    for (const verbose of [false, true]) {
      const text = renderText(r, { verbose });
      expect(text).not.toContain(ESC);
      for (const line of text.split('\n')) {
        // Only a single word longer than the line (a long URL) may overflow.
        if ([...line].length > 80) expect(line.trim().split(' ').length, line).toBe(1);
      }
    }
    expect(renderText(r, { color: true })).toContain(ESC);
  });

  it('unplugged-pi: status, the one root with its explanation, impact and first fix, symptoms folded beneath', () => {
    const text = renderText(report('unplugged-pi'));
    const lines = text.split('\n');
    expect(lines[1]).toMatch(/^netdoctor 0\.1\.0 · lab · inside · \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC · /);
    expect(lines[0]).toBe('CRITICAL: 1 root cause; 4 more findings follow from it');
    expect(text).toContain('✖ DHCP server missing on eth0: nobody answered in 6 s');
    expect(text.replace(/\s+/g, ' ')).toMatch(/What followed: pi-dns vanished from the LAN \(not at 192\.168\.1\.10, not seen anywhere else\);/);
    expect(text).toMatch(/Impact: New devices/);
    expect(text).toContain("Fix: Turn the router's DHCP server back on (192.168.1.1)");
    expect(text).toMatch(/\+ Give pi-dns the static address 192\.168\.1\.10/);
    const chain = lines.filter((l) => l.includes('↳'));
    expect(chain).toEqual([
      '  ↳ pi-dns is missing: its MAC b8:27:eb:00:00:10 was not seen on eth0',
      '    ↳ DNS server 192.168.1.10 (pi-dns) is silent: 3 queries got no answer',
      '  ↳ pi-vpn is missing: its MAC b8:27:eb:00:00:20 was not seen on eth0',
      '    ↳ Port forward UDP 1194 points at 192.168.1.20, where pi-vpn no longer is',
    ]);
    // the root comes before anything it explains, and appears once
    expect(text.indexOf('DHCP server missing')).toBeLessThan(text.indexOf('↳'));
    expect(text.split('DNS server 192.168.1.10 (pi-dns) is silent').length).toBe(2);
    // the link-local variant names where pi-dns went
    const ll = renderText(report('unplugged-pi-link-local')).replace(/\s+/g, ' ');
    expect(ll).toMatch(/What followed: pi-dns fell back to the link-local address 169\.254\.77\.12;/);
    expect(ll).toContain('↳ pi-dns lost its address: it gave itself 169.254.77.12 instead of 192.168.1.10');
  });

  it('healthy: one OK line, nothing to fix', () => {
    const text = renderText(report('healthy'));
    expect(text.split('\n')[0]).toBe('OK: nothing wrong found');
    expect(text).not.toContain('Fix');
  });

  it('two roots: the critical one first', () => {
    const text = renderText(report('ddns-stale-and-dns-down'));
    expect(text.split('\n')[0]).toBe('CRITICAL: 2 root causes');
    expect(text.indexOf('✖ DNS server 192.168.1.10')).toBeGreaterThan(0);
    expect(text.indexOf('✖ DNS server 192.168.1.10')).toBeLessThan(text.indexOf('! DDNS name home.dyn.example.net is stale'));
  });

  it('no-permission: what could not be judged, with what to do about it', () => {
    const text = renderText(report('no-permission'));
    expect(text.split('\n')[0]).toBe('UNKNOWN: nothing wrong found, but 1 thing could not be judged');
    expect(text).toContain('Could not judge:');
    expect(text.replace(/\s+/g, ' ')).toContain('? DHCP could not be checked: no permission to listen on UDP port 68 (EACCES), which DHCP offers are sent to');
    expect(text).toContain('│ sudo setcap cap_net_bind_service,cap_net_raw+ep');
  });

  it('outside vantage: probes of the other vantage are listed as not checked', () => {
    const text = renderText(report('outside-vpn-unreachable'));
    expect(text).toContain('Not checked in this run (does not change the status):');
    expect(text).toMatch(/\? DHCP not checked: dhcp does not run from the outside vantage/);
    expect(text.split('\n')[0]).toBe('CRITICAL: 1 root cause');
  });

  it('verbose: every fix in full and every observation with status, subject and summary', () => {
    const r = report('reservations-lost');
    const text = renderText(r, { verbose: true });
    // One root (reservations-lost, issue 21 item 7) with every fix in full; the moved hosts' own fixes beneath it.
    expect(text).toContain('Fix 1 of 3: Re-create the reservations in the router, then make the hosts ask');
    expect(text).toContain('Fix 3 of 3: Give pi-vpn the static address 192.168.1.20');
    expect(text).toContain(`Observations (${r.observations.length}):`);
    const flat = text.replace(/\s+/g, ' ');
    for (const o of r.observations) {
      expect(flat).toContain(`${o.probe.padEnd(5)} ${o.subject}`.replace(/\s+/g, ' '));
      expect(flat).toContain(o.summary.replace(/\s+/g, ' '));
    }
    expect(text).toMatch(/ FAIL  hosts pi-dns/);
  });

  it('snippets are printed whole, never wrapped', () => {
    const text = renderText(report('unplugged-pi'), { verbose: true });
    expect(text).toContain('│ dhcp-range=192.168.1.100,192.168.1.199,255.255.255.0,12h');
    expect(text).toContain('│ sudo nmcli connection modify "Wired connection 1" \\');
  });

  it('wrap keeps words whole and indents continuation lines', () => {
    expect(wrap('aaa bbb ccc ddd', 9, '> ', '  ')).toEqual(['> aaa bbb', '  ccc ddd']);
    expect(wrap('https://example.com/a/very/long/path', 10, '  ')).toEqual(['  https://example.com/a/very/long/path']);
  });
});
