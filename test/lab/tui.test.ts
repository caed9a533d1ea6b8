/**
 * The live UI on the lab's network: `netdoctor` in the client namespace,
 * under tmux, shows the healthy network; after the `reservations-lost` fault
 * and `r`, the moved Pis and the root cause. Also, in the same lab: without
 * a terminal it prints what `check` prints, and `netdoctor init` writes a
 * starter that describes the lab — scanning it only with --yes.
 *
 * Needs the BUILT CLI (npx tsc -p tsconfig.build.json) and tmux.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { describeLab } from '../support/lab.js';
import { PRETEND_MACHINE } from '../support/config.js';
import { TMUX_MISSING, Tmux, terminalEnv } from '../tui/tmux.js';
import { nobodyCli } from '../support/nobody.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const CLI = join(ROOT, 'dist', 'cli.js');
const EXITED = /netdoctor-exited-(\d+)/;

describeLab('the live UI and init in the lab', (lab) => {
  const tmux = new Tmux();
  afterAll(() => tmux.kill());
  const load = (file: string) => parseConfigText(readFileSync(file, 'utf8'), { file, machine: PRETEND_MACHINE, env: { HOME: '/nonexistent' } });

  it('has what it needs', () => {
    expect(TMUX_MISSING).toBeUndefined();
    expect(existsSync(CLI), `${CLI} is missing: build first`).toBe(true);
  });

  it('init without a terminal reads the client\'s network and sends nothing', async () => {
    const out = join(lab().stateDir, 'init-read.yaml');
    const r = await lab().runNetdoctor('client', ['init', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('interface  eth0, 192.168.1.50/24');
    expect(r.stdout).toContain('resolvers  192.168.1.10');
    expect(r.stdout).toContain('Not scanning the network');
    const config = load(out);
    expect(config.interface).toBe('eth0');
    expect(config.subnet?.cidr).toBe('192.168.1.0/24');
    expect(config.router.ip).toBe('192.168.1.1');
    expect(config.dns.servers).toEqual(['192.168.1.10']);
    expect(config.router.dnsServer).toBeUndefined(); // only a scan can learn it
  }, 60_000);

  it('init --yes scans the lab: both Pis watched by MAC, the DHCP server and the DNS server it hands out', async () => {
    const out = join(lab().stateDir, 'init-scan.yaml');
    const r = await lab().runNetdoctor('client', ['init', '--yes', '-o', out], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Scanning 192.168.1.0/24 and listening for DHCP servers');
    expect(r.stdout).toMatch(/dhcp +192\.168\.1\.1 hands out gateway 192\.168\.1\.1, DNS 192\.168\.1\.10/);
    const config = load(out);
    expect(config.hosts).toEqual(expect.arrayContaining([
      { name: 'pi-10', mac: 'b8:27:eb:00:00:10', ip: '192.168.1.10', roles: ['dns'] },
      { name: 'pi-20', mac: 'b8:27:eb:00:00:20', ip: '192.168.1.20' },
    ]));
    expect(config.dhcp.servers).toEqual(['192.168.1.1']);
    expect(config.router.dnsServer).toBe('192.168.1.10');
  }, 90_000);

  it('without a config: the first-run screen says what the client knows, and i hands over to init, which asks first', async () => {
    const dir = join(lab().stateDir, 'first-run');
    mkdirSync(join(dir, 'home'), { recursive: true });
    const first = new Tmux();
    try {
      const env = terminalEnv({ HOME: join(dir, 'home'), XDG_CONFIG_HOME: join(dir, 'home', '.config'), XDG_STATE_HOME: join(dir, 'home', '.state') });
      first.start(`cd ${dir} && ip netns exec ${lab().ns('client')} ${process.execPath} ${CLI}; echo netdoctor-exited-$?; sleep 600`, 100, 30, env);
      const screen = await first.waitFor((s) => s.includes('No netdoctor.yaml yet'), 'the first-run screen', 20_000);
      expect(screen).toMatch(/Interface +eth0 +192\.168\.1\.50\/24/);
      expect(screen).toMatch(/Gateway +192\.168\.1\.1$/m);
      expect(screen).toMatch(/Resolvers +192\.168\.1\.10$/m);
      expect(screen).not.toContain('checking…');
      first.keys('i');
      const asked = await first.waitFor((s) => s.includes('[y/N]'), 'init to ask before scanning', 20_000);
      expect(asked).toContain('Scan 192.168.1.0/24 and listen for DHCP servers on eth0 to fill in more? [y/N]');
      expect(asked).not.toContain('No netdoctor.yaml yet'); // the UI cleared the screen for init
      first.keys('y', 'Enter');
      const done = await first.waitFor((s) => EXITED.test(s), 'init to finish', 60_000);
      expect(EXITED.exec(done)![1]).toBe('0');
      expect(done).toContain('Wrote netdoctor.yaml: watching pi-10, pi-20');
      expect(load(join(dir, 'netdoctor.yaml')).router.dnsServer).toBe('192.168.1.10');
    } finally {
      first.kill();
    }
  }, 120_000);

  it('shows the healthy network live', async () => {
    const config = lab().writeConfig(lab().configYaml(), 'tui.yaml');
    const home = join(lab().stateDir, 'home');
    const env = terminalEnv({ HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_STATE_HOME: join(home, '.local', 'state') });
    tmux.start(`ip netns exec ${lab().ns('client')} ${process.execPath} ${CLI} --config ${config}; echo netdoctor-exited-$?; sleep 600`, 100, 30, env);
    await tmux.waitFor((s) => s.includes('checking…'), 'the first run to start', 20_000);
    const screen = await tmux.waitFor((s) => s.includes('Nothing wrong found'), 'the healthy diagnosis', 60_000);
    expect(screen).toMatch(/netdoctor · lab · eth0 · inside/);
    expect(screen).toMatch(/✔ OK · last run/);
    expect(screen).toMatch(/✔ DHCP +192\.168\.1\.1 answered in/);
    expect(screen).toMatch(/✔ Hosts +pi-dns at 192\.168\.1\.10 · pi-vpn at 192\.168\.1\.20/);
    expect(screen).toMatch(/✔ DNS +192\.168\.1\.10 \d+\/\d+ answered/);
    expect(screen).toMatch(/✔ VPN +.*answered/);
    expect(screen).toMatch(/✔ Internet +gateway 192\.168\.1\.1/);
  }, 90_000);

  it('after reservations-lost and r: the moved Pis and the root cause', async () => {
    await lab().fault('reservations-lost');
    const [dnsAt] = await lab().addresses('pi-dns');
    const [vpnAt] = await lab().addresses('pi-vpn');
    expect(dnsAt).not.toBe('192.168.1.10');
    tmux.keys('r');
    await tmux.waitFor((s) => s.includes('checking…'), 'the re-run', 10_000);
    const screen = await tmux.waitFor((s) => s.includes('✖ CRITICAL · last run'), 'the new diagnosis', 60_000);
    expect(screen).toContain(`pi-dns moved → ${dnsAt}`);
    expect(screen).toContain(`pi-vpn moved → ${vpnAt}`);
    // One root for both moves (issue 21, item 7), each move beneath it.
    expect(screen.replace(/\s+/g, ' ')).toContain('› ✖ The router lost its DHCP reservations: pi-dns and pi-vpn');
    expect(screen.replace(/\s+/g, ' ')).toContain(`↳ pi-dns moved: it is at ${dnsAt}, expected 192.168.1.10`);
    expect(screen).toMatch(/↳ pi-vpn moved: it is at/);
    expect(screen).toMatch(/↳ DNS server 192\.168\.1\.10 \(pi-dns\) is silent/);
    tmux.keys('Enter');
    const detail = await tmux.waitFor((s) => s.includes('CRITICAL · root cause'), 'the detail', 10_000);
    expect(detail.replace(/\s+/g, ' ')).toContain(`is at ${dnsAt} instead of 192.168.1.10`);
  }, 120_000);

  it('q stops the UI and the process exits 0', async () => {
    tmux.keys('q');
    const screen = await tmux.waitFor((s) => EXITED.test(s), 'netdoctor to exit', 15_000);
    expect(EXITED.exec(screen)![1]).toBe('0');
  }, 30_000);

  it('without a terminal, `netdoctor` prints what check prints, with check\'s exit code', async () => {
    const r = await lab().runNetdoctor('client', [], { timeoutMs: 60_000 });
    expect(r.code).toBe(2);
    expect(r.stdout.split('\n')[0]).toMatch(/^CRITICAL: 1 root cause/);
    expect(r.stdout).toMatch(/^netdoctor \S+ · lab · inside · /m);
    expect(r.stdout).toMatch(/✖ The router lost its DHCP reservations: pi-dns and pi-vpn/);
    expect(r.stdout).toMatch(/pi-dns moved: it is at 192\.168\.1\.\d+, expected 192\.168\.1\.10/);
  }, 90_000);

  it('--user nobody: port 68 is opened as root, then the UI runs as nobody and still sees the router, run after run', async () => {
    await lab().heal();
    const config = lab().writeConfig(lab().configYaml(), 'tui-user.yaml');
    const home = join(lab().stateDir, 'home-user');
    mkdirSync(home, { recursive: true });
    const env = terminalEnv({ HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_STATE_HOME: join(home, '.local', 'state') });
    const ui = new Tmux();
    try {
      ui.start(`ip netns exec ${lab().ns('client')} ${process.execPath} ${nobodyCli()} --user nobody --config ${config}; echo netdoctor-exited-$?; sleep 600`, 100, 30, env);
      const screen = await ui.waitFor((s) => s.includes('Nothing wrong found'), 'the healthy diagnosis', 60_000);
      expect(screen).toMatch(/✔ DHCP +192\.168\.1\.1 answered in/);
      // The UI's process is nobody's now.
      const pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
        try {
          // argv as node sees it: the tmux server and the shell also carry the command line, but only as text.
          const argv = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
          return argv[0] === process.execPath && argv[1] === nobodyCli() && argv.some((a) => a.endsWith('tui-user.yaml'));
        } catch {
          return false;
        }
      });
      expect(pids.length).toBeGreaterThan(0);
      for (const pid of pids) expect(readFileSync(`/proc/${pid}/status`, 'utf8')).toMatch(/^Uid:\s+65534\s+65534/m);
      ui.keys('r');
      await ui.waitFor((s) => s.includes('checking…'), 'the re-run', 10_000);
      const again = await ui.waitFor((s) => s.includes('Nothing wrong found') && !s.includes('checking…'), 'the second diagnosis', 60_000);
      expect(again).toMatch(/✔ DHCP +192\.168\.1\.1 answered in/);
      ui.keys('q');
      const end = await ui.waitFor((s) => EXITED.test(s), 'netdoctor to exit', 15_000);
      expect(EXITED.exec(end)![1]).toBe('0');
    } finally {
      ui.kill();
    }
  }, 150_000);
});
