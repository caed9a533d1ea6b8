import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { clientMacFile, isLocallyAdministeredUnicast, loadClientMac, randomLocalMac } from '../../src/probes/net/client-mac.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'netdoctor-mac-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('installation MAC', () => {
  it('is always locally administered unicast, whatever the random bytes', () => {
    for (const fill of [0x00, 0xff, 0x01, 0xfe]) {
      const mac = randomLocalMac((n) => new Uint8Array(n).fill(fill));
      expect(isLocallyAdministeredUnicast(mac)).toBe(true);
    }
    expect(isLocallyAdministeredUnicast('b8:27:eb:00:00:10')).toBe(false); // a Raspberry Pi's vendor MAC
    expect(isLocallyAdministeredUnicast('03:00:00:00:00:01')).toBe(false); // multicast
  });

  it('is created once and then kept across runs', () => {
    const file = join(tempDir(), 'state', 'netdoctor', 'dhcp-client-mac');
    const first = loadClientMac({ env: {}, file });
    expect(first.source).toBe('state');
    expect(readFileSync(file, 'utf8')).toBe(`${first.mac}\n`);
    expect(loadClientMac({ env: {}, file }).mac).toBe(first.mac);
  });

  it('replaces a state file that holds no usable MAC', () => {
    const file = join(tempDir(), 'dhcp-client-mac');
    writeFileSync(file, 'b8:27:eb:00:00:10\n'); // a vendor MAC is never ours to use
    const got = loadClientMac({ env: {}, file });
    expect(got.mac).not.toBe('b8:27:eb:00:00:10');
    expect(readFileSync(file, 'utf8')).toBe(`${got.mac}\n`);
  });

  it('takes an explicit MAC from the option, then the environment, and refuses a vendor MAC', () => {
    const file = join(tempDir(), 'dhcp-client-mac');
    expect(loadClientMac({ explicit: '02:AA:00:00:00:01', env: { NETDOCTOR_DHCP_CLIENT_MAC: '06:00:00:00:00:02' }, file }))
      .toEqual({ mac: '02:aa:00:00:00:01', source: 'option' });
    expect(loadClientMac({ env: { NETDOCTOR_DHCP_CLIENT_MAC: '06-00-00-00-00-02' }, file })).toEqual({ mac: '06:00:00:00:00:02', source: 'env' });
    expect(() => loadClientMac({ env: { NETDOCTOR_DHCP_CLIENT_MAC: 'b8:27:eb:00:00:10' }, file })).toThrow(/NETDOCTOR_DHCP_CLIENT_MAC "b8:27:eb:00:00:10" is not a locally administered/);
  });

  it('still answers, for this run only, when the state cannot be written', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'not-a-dir'), '');
    const got = loadClientMac({ env: {}, file: join(dir, 'not-a-dir', 'dhcp-client-mac') });
    expect(got.source).toBe('ephemeral');
    expect(got.problem).toMatch(/ENOTDIR|EEXIST/);
    expect(isLocallyAdministeredUnicast(got.mac)).toBe(true);
  });

  it('lives under XDG_STATE_HOME, /var/lib for root, ~/.local/state otherwise, or where NETDOCTOR_DHCP_MAC_FILE says', () => {
    expect(clientMacFile({ NETDOCTOR_DHCP_MAC_FILE: '/x/mac', XDG_STATE_HOME: '/s' }, true)).toBe('/x/mac');
    expect(clientMacFile({ XDG_STATE_HOME: '/s', HOME: '/home/u' }, false)).toBe('/s/netdoctor/dhcp-client-mac');
    expect(clientMacFile({ HOME: '/root' }, true)).toBe('/var/lib/netdoctor/dhcp-client-mac');
    expect(clientMacFile({ HOME: '/home/u' }, false)).toBe('/home/u/.local/state/netdoctor/dhcp-client-mac');
  });

  it('gives eight processes starting at once one and the same MAC', async () => {
    const file = join(tempDir(), 'race', 'dhcp-client-mac');
    // Separate processes race for real; they load the built module (npm test builds first).
    const modulePath = new URL('../../dist/probes/net/client-mac.js', import.meta.url).pathname;
    expect(existsSync(modulePath), `${modulePath} missing: build first (npx tsc -p tsconfig.build.json)`).toBe(true);
    // All wake at one shared instant, so they really race for the file.
    const at = Date.now() + 2000;
    const script = `import { loadClientMac } from ${JSON.stringify(modulePath)}; setTimeout(() => console.log(loadClientMac({ env: {}, file: ${JSON.stringify(file)} }).mac), ${at} - Date.now());`;
    const runOne = () =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (err += d));
        child.on('error', reject);
        child.on('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(err))));
      });
    const macs = await Promise.all(Array.from({ length: 8 }, runOne));
    expect(new Set(macs).size).toBe(1);
    expect(readFileSync(file, 'utf8')).toBe(`${macs[0]}\n`);
  });

  it('leaves no temporary files behind', () => {
    const dir = join(tempDir(), 'clean');
    mkdirSync(dir);
    loadClientMac({ env: {}, file: join(dir, 'dhcp-client-mac') });
    loadClientMac({ env: {}, file: join(dir, 'dhcp-client-mac') });
    expect(readdirSync(dir)).toEqual(['dhcp-client-mac']);
  });
});

