/**
 * Every fix snippet netdoctor prints must be what it claims to be: shell that
 * parses (bash -n) with the commands spelled right, a dhcpcd.conf block with
 * valid keys, dnsmasq configuration that dnsmasq itself accepts
 * (`dnsmasq --test`, no network), and netdoctor.yaml that netdoctor accepts.
 * Checked for every snippet of every scenario, and for configs that leave the
 * router's address and the subnet out (where snippets must shrink, never
 * carry a placeholder).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { diagnose } from '../../src/diagnose/index.js';
import { dhcpPool, dnsmasqTakeOverFix, lanFacts, staticAddressFixes } from '../../src/diagnose/fixes.js';
import type { Fix } from '../../src/diagnose/types.js';
import { isIPv4, parseCidr } from '../../src/shared/ipv4.js';
import { configFrom } from '../support/config.js';
import { recordedScenario, SCENARIO_NAMES } from '../support/scenarios.js';
import { skipHere } from '../support/needs.js';

const tmp = mkdtempSync(join(tmpdir(), 'nd-snippets-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Located {
  where: string;
  fix: Fix;
  ip?: string;
}

function scenarioSnippets(): Located[] {
  const out: Located[] = [];
  for (const name of SCENARIO_NAMES) {
    const { config, run } = recordedScenario(name);
    for (const f of diagnose(run.observations, config).findings) {
      for (const fix of f.fixes) if (fix.snippet) out.push({ where: `${name}: ${f.key}: ${fix.title}`, fix });
    }
  }
  return out;
}

const BARE = `
hosts:
  - { name: pi-dns, mac: "b8:27:eb:00:00:10", ip: 10.0.5.10, roles: [dns] }
  - { name: pi-vpn, mac: "b8:27:eb:00:00:20", ip: 10.0.5.20, roles: [vpn] }
`;
/** A config that knows neither router nor subnet: snippets must leave those parts out. */
function bareSnippets(): Located[] {
  const config = configFrom(BARE, { resolvers: [], interfaces: {} });
  const net = lanFacts(config, []);
  const fixes = [...config.hosts.flatMap((h) => staticAddressFixes(h, net)), dnsmasqTakeOverFix(config, config.hosts[0], net)!];
  return fixes.map((fix) => ({ where: `bare config: ${fix.title}`, fix }));
}

const all = [...scenarioSnippets(), ...bareSnippets()];

/** Joins backslash-continued lines and splits into shell words (double and single quotes). */
function shellCommands(text: string): string[][] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((l) => l.trim() && !l.trim().startsWith('#'))
    .map((line) => {
      const words: string[] = [];
      const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
      for (let m = re.exec(line); m; m = re.exec(line)) words.push(m[1] ?? m[2] ?? m[3]);
      return words;
    });
}

const NMCLI_PROPS = new Set(['ipv4.method', 'ipv4.addresses', 'ipv4.gateway', 'ipv4.dns']);

function checkNmcli(words: string[], where: string): string | undefined {
  expect(words.slice(0, 3), where).toEqual(['sudo', 'nmcli', 'connection']);
  if (words[3] === 'up') {
    expect(words.length, where).toBe(5);
    return undefined;
  }
  expect(words[3], where).toBe('modify');
  expect(words[4].length, where).toBeGreaterThan(0);
  const props = words.slice(5);
  expect(props.length % 2, `${where}: property/value pairs`).toBe(0);
  let address: string | undefined;
  for (let i = 0; i < props.length; i += 2) {
    const [key, value] = [props[i], props[i + 1]];
    expect(NMCLI_PROPS.has(key), `${where}: ${key}`).toBe(true);
    if (key === 'ipv4.method') expect(value).toBe('manual');
    if (key === 'ipv4.addresses') {
      expect(parseCidr(value), `${where}: ${value}`).toBeDefined();
      address = value;
    }
    if (key === 'ipv4.gateway' || key === 'ipv4.dns') expect(isIPv4(value), `${where}: ${value}`).toBe(true);
  }
  expect(address, `${where}: ipv4.addresses`).toBeDefined();
  return address;
}

describe('fix snippets', () => {
  it('there are snippets of every kind to check', () => {
    const kinds = new Set(all.map((s) => s.fix.snippet!.file.startsWith('run on') ? 'sh' : s.fix.snippet!.file));
    expect([...kinds].sort()).toEqual(expect.arrayContaining(['/etc/dhcpcd.conf', '/etc/dnsmasq.d/dhcp.conf', '/etc/dnsmasq.d/no-dhcp.conf', 'netdoctor.yaml', 'sh']));
  });

  it.each(all.filter((s) => s.fix.snippet!.language === 'sh').map((s) => [s.where, s] as const))('shell parses: %s', (where, s) => {
    const text = s.fix.snippet!.text;
    const r = spawnSync('bash', ['-n'], { input: text, encoding: 'utf8' });
    expect(r.status, `${where}\n${r.stderr}`).toBe(0);
    for (const words of shellCommands(text)) {
      if (words[1] === 'nmcli') checkNmcli(words, where);
      if (words[1] === 'systemctl') expect(['restart', 'enable'], where).toContain(words[2]);
      if (words[1] === 'ddclient') expect(words.slice(2).every((w) => /^-(daemon=0|verbose|noquiet|force)$/.test(w)), where).toBe(true);
    }
  });

  it('the nmcli commands put each Pi on its own address with the LAN prefix', () => {
    const nm = all.filter((s) => s.fix.snippet!.text.includes('nmcli connection modify'));
    expect(nm.length).toBeGreaterThan(0);
    for (const s of nm) {
      const modify = shellCommands(s.fix.snippet!.text).find((w) => w[3] === 'modify')!;
      const address = checkNmcli(modify, s.where)!;
      const ip = address.split('/')[0];
      expect(s.fix.title, s.where).toContain(ip);
      expect(s.fix.snippet!.file, s.where).toMatch(/^run on pi-(dns|vpn)$/);
      expect(address, s.where).toBe(s.where.startsWith('bare') ? `${ip}/24` : `${ip}/24`);
      expect(s.fix.snippet!.text, s.where).toContain('nmcli connection up');
    }
  });

  it.each(all.filter((s) => s.fix.snippet!.file === '/etc/dhcpcd.conf').map((s) => [s.where, s] as const))('dhcpcd block is valid: %s', (where, s) => {
    const lines = s.fix.snippet!.text.split('\n');
    expect(lines[0], where).toMatch(/^interface [a-z0-9]+$/);
    const keys: string[] = [];
    for (const line of lines.slice(1)) {
      const m = /^static (ip_address|routers|domain_name_servers)=(\S+)$/.exec(line);
      expect(m, `${where}: ${line}`).not.toBeNull();
      keys.push(m![1]);
      if (m![1] === 'ip_address') expect(parseCidr(m![2]), line).toBeDefined();
      else expect(m![2].split(/\s+/).every(isIPv4), line).toBe(true);
    }
    expect(keys[0]).toBe('ip_address');
    expect(new Set(keys).size).toBe(keys.length);
  });

  it.for(all.filter((s) => s.fix.snippet!.file.startsWith('/etc/dnsmasq.d/')).map((s) => [s.where, s] as const))('dnsmasq accepts it (dnsmasq --test): %s', ([where, s], ctx) => {
    const text = s.fix.snippet!.text;
    for (const line of text.split('\n').filter((l) => l && !l.startsWith('#'))) expect(line, where).toMatch(/^[a-z-]+(=\S+)?$/);
    const file = join(tmp, 'snippet.conf');
    writeFileSync(file, `${text}\n`);
    const r = spawnSync('dnsmasq', ['--test', '-C', file], { encoding: 'utf8' });
    if (r.error) skipHere(ctx, `dnsmasq cannot run (${r.error.message}): install dnsmasq-base; the line check above still ran`);
    expect(r.status, `${where}\n${r.stderr}`).toBe(0);
  });

  it('the dnsmasq DHCP pool lies in the LAN and pins every Pi by MAC', () => {
    const take = all.filter((s) => s.fix.snippet!.file === '/etc/dnsmasq.d/dhcp.conf');
    expect(take.length).toBeGreaterThan(0);
    for (const s of take) {
      const text = s.fix.snippet!.text;
      const range = /^dhcp-range=([\d.]+),([\d.]+),([\d.]+),12h$/m.exec(text);
      expect(range, s.where).not.toBeNull();
      const lan = s.where.startsWith('bare') ? '10.0.5.' : '192.168.1.';
      expect(range![1].startsWith(lan) && range![2].startsWith(lan), s.where).toBe(true);
      expect(text).toMatch(/^dhcp-host=b8:27:eb:00:00:10,pi-dns,[\d.]+\.10$/m);
      expect(text).toMatch(/^dhcp-host=b8:27:eb:00:00:20,pi-vpn,[\d.]+\.20$/m);
    }
    expect(dhcpPool(parseCidr('192.168.1.0/24')!)).toEqual({ start: '192.168.1.100', end: '192.168.1.199' });
  });

  it.each(all.filter((s) => s.fix.snippet!.file === 'netdoctor.yaml').map((s) => [s.where, s] as const))('netdoctor accepts the YAML: %s', (where, s) => {
    expect(() => configFrom(s.fix.snippet!.text), where).not.toThrow();
  });

  it('a config without router and subnet gives shorter snippets and says what to add, never a placeholder', () => {
    for (const s of bareSnippets()) {
      expect(s.fix.snippet!.text, s.where).not.toMatch(/undefined|NaN|<|\$\{/);
      expect(s.fix.snippet!.text).not.toMatch(/gateway|routers=|option:router/);
    }
    const nm = bareSnippets().find((s) => s.fix.snippet!.text.includes('nmcli'))!;
    expect(nm.fix.steps.join(' ')).toMatch(/router\.ip is not known/);
    expect(nm.fix.steps.join(' ')).toMatch(/assumes a \/24 network/);
  });
});
