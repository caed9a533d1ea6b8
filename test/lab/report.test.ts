/**
 * `netdoctor report` on a history made by REAL checks: the lab goes
 * healthy → unplugged-pi → heal → ddns-stale → heal, `netdoctor check` runs
 * several times in each phase inside the client node and records every run,
 * and the report must find the two outages with the right roots, start and
 * end within one run interval of when the fault was applied and healed, and
 * the symptoms in order. The HTML report is then rendered by headless
 * Chromium to a PNG kept in test-artifacts/: the timeline SVG must be there,
 * drawn (red and green lanes in the pixels), without console errors.
 *
 * Chromium runs in a network namespace of its own with nothing but a
 * loopback that is down (`unshare -n`): the page must need nothing from a
 * network, and the browser reaches none.
 *
 * Needs dist/ built (`npx tsc -p tsconfig.build.json`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateSync } from 'node:zlib';
import { beforeAll, expect, it } from 'vitest';
import type { IncidentListDocument, ReportDocument } from '../../src/report/incident.js';
import { describeLab } from '../support/lab.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const ARTIFACTS = join(REPO, 'test-artifacts');
const CHROMIUM = '/usr/bin/chromium';
const RUNS_PER_PHASE = 4;

interface RunSeen {
  phase: string;
  startedAt: number;
  status: string;
}

interface Phase {
  name: string;
  fault?: string;
  /** Epoch ms just before the lab was changed, and just after it returned. */
  changeStarted: number;
  changeDone: number;
  runs: RunSeen[];
}

describeLab('netdoctor report from a real history', (lab) => {
  const phases: Phase[] = [];
  let config = '';
  let history = '';

  beforeAll(async () => {
    const l = lab();
    history = join(l.stateDir, 'report-history.db');
    rmSync(history, { force: true });
    config = l.writeConfig(l.configYaml().replace(/^history:\n(?: {2}.*(?:\n|$))+/m, '').concat(`history:\n  path: ${history}\n`), 'report.yaml');

    const plan: Array<{ name: string; change: () => Promise<void>; fault?: string }> = [
      { name: 'healthy', change: () => l.heal() },
      { name: 'unplugged-pi', change: () => l.fault('unplugged-pi'), fault: 'unplugged-pi' },
      { name: 'heal', change: () => l.heal() },
      { name: 'ddns-stale', change: () => l.fault('ddns-stale'), fault: 'ddns-stale' },
      { name: 'heal again', change: () => l.heal() },
    ];
    for (const p of plan) {
      const changeStarted = Date.now();
      await p.change();
      const phase: Phase = { name: p.name, fault: p.fault, changeStarted, changeDone: Date.now(), runs: [] };
      for (let i = 0; i < RUNS_PER_PHASE; i++) {
        const r = await l.runNetdoctor('client', ['check', '--json', '--config', config], { timeoutMs: 60_000 });
        let doc: { startedAt: string; status: string };
        try {
          doc = JSON.parse(r.stdout) as typeof doc;
        } catch {
          throw new Error(`check in phase ${p.name} printed no JSON (exit ${r.code}): ${r.stderr.slice(0, 800)}`);
        }
        phase.runs.push({ phase: p.name, startedAt: Date.parse(doc.startedAt), status: doc.status });
      }
      phases.push(phase);
    }
  }, 600_000);

  const story = () => phases.map((p) => `${p.name}: ${p.runs.map((r) => r.status).join(' ')}`).join('; ');

  it('the checks saw what the lab did (the ground truth for the rest)', () => {
    expect(phases.map((p) => p.runs.map((r) => r.status)), story()).toEqual([
      Array(RUNS_PER_PHASE).fill('ok'),
      Array(RUNS_PER_PHASE).fill('critical'),
      Array(RUNS_PER_PHASE).fill('ok'),
      Array(RUNS_PER_PHASE).fill('warning'),
      Array(RUNS_PER_PHASE).fill('ok'),
    ]);
  });

  it('two incidents, with the right roots, starting and ending within one run interval of the fault and the heal', async () => {
    const l = lab();
    const list = await l.runNetdoctor('client', ['report', '--list', '--format', 'json', '--config', config]);
    expect(list.code, list.stderr).toBe(0);
    const incidents = (JSON.parse(list.stdout) as IncidentListDocument).incidents;
    expect(incidents.map((i) => i.roots.map((r) => r.id)), story()).toEqual([['dhcp-server-missing'], ['ddns-stale']]);
    expect(incidents.map((i) => i.status)).toEqual(['critical', 'warning']);

    for (const [n, incident] of incidents.entries()) {
      const fault = phases[1 + 2 * n];
      const heal = phases[2 + 2 * n];
      const r = await l.runNetdoctor('client', ['report', '--incident', String(incident.id), '--format', 'json', '--config', config]);
      expect(r.code, r.stderr).toBe(0);
      const report = (JSON.parse(r.stdout) as ReportDocument).incidents[0];
      const interval = report.runIntervalMs;
      const started = Date.parse(incident.startedAt);
      const recovered = Date.parse(incident.recoveredAt!);
      // It began after the fault, at the first run that could see it, within one run interval...
      expect(started).toBeGreaterThanOrEqual(fault.changeStarted);
      expect(started - fault.changeDone, `${fault.name}: start ${incident.startedAt}, interval ${interval} ms`).toBeLessThanOrEqual(interval);
      expect(Date.parse(incident.previousRunAt!)).toBeLessThan(fault.changeStarted);
      // ...and it was over by the first run after the heal, within one run interval.
      expect(recovered).toBeGreaterThanOrEqual(heal.changeDone);
      expect(recovered - heal.changeDone, `${heal.name}: recovered ${incident.recoveredAt}, interval ${interval} ms`).toBeLessThanOrEqual(interval);
      expect(Date.parse(incident.lastSeenAt)).toBeLessThan(heal.changeStarted);
      expect(incident).toMatchObject({ ongoing: false, badRuns: RUNS_PER_PHASE });
      expect(incident.startedAt).toBe(new Date(fault.runs[0].startedAt).toISOString());
      expect(incident.recoveredAt).toBe(new Date(heal.runs[0].startedAt).toISOString());
    }
  });

  it('the seed\'s outage: the DHCP root first, then each symptom after what explains it, all cleared by the heal', async () => {
    const l = lab();
    const r = await l.runNetdoctor('client', ['report', '--incident', String(await firstIncidentId()), '--format', 'json', '--config', config]);
    const report = (JSON.parse(r.stdout) as ReportDocument).incidents[0];
    const roles = report.findings.map((f) => `${f.role} ${f.key}`);
    expect(roles[0]).toBe('root dhcp-server-missing{iface=eth0}');
    const symptoms = report.findings.filter((f) => f.role === 'symptom');
    expect(symptoms.map((f) => f.key), roles.join('\n')).toEqual(
      expect.arrayContaining(['host-missing{host=pi-dns}', 'host-missing{host=pi-vpn}', 'dns-server-down{server=192.168.1.10}', 'vpn-forward-stale{port=1194,to=192.168.1.20}']),
    );
    const position = new Map(report.findings.map((f, i) => [f.key, i]));
    for (const f of symptoms) {
      expect(f.sinceRootMs, f.key).toBeGreaterThanOrEqual(0);
      expect(f.rootKeys).toContain('dhcp-server-missing{iface=eth0}');
      for (const c of f.causes) expect(position.get(c)!, `${c} before ${f.key}`).toBeLessThan(position.get(f.key)!);
    }
    // dns-server-down follows from pi-dns going missing, the stale forward from pi-vpn
    expect(position.get('host-missing{host=pi-dns}')!).toBeLessThan(position.get('dns-server-down{server=192.168.1.10}')!);
    expect(position.get('host-missing{host=pi-vpn}')!).toBeLessThan(position.get('vpn-forward-stale{port=1194,to=192.168.1.20}')!);
    for (const f of report.findings) expect(f.clearedAt, f.key).toBe(report.incident.recoveredAt);
    expect(report.findings[0].evidence.map((e) => `${e.id} ${e.status} ${e.reason}`)).toEqual(['dhcp:summary:dhcp fail no-offer']);
    expect(report.lanes.filter((x) => x.rootCause).map((x) => x.name)).toEqual(['dhcp']);
    expect(report.fixes[0]).toMatchObject({ key: 'dhcp-server-missing{iface=eth0}', clearedAt: report.incident.recoveredAt });
    expect(report.openQuestions).toEqual([]);

    const md = await l.runNetdoctor('client', ['report', '--incident', String(report.incident.id), '--config', config]);
    expect([...md.stdout.matchAll(/^## (.+)$/gm)].map((m) => m[1])).toEqual(['Summary', 'Timeline', 'Root cause and how netdoctor knows', 'What followed', 'Fixes', 'Open questions']);
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, 'report-lab.md'), md.stdout);
  });

  it('the HTML report renders in headless Chromium: the timeline SVG is there and drawn, no console errors', async () => {
    const l = lab();
    mkdirSync(ARTIFACTS, { recursive: true });
    const html = join(ARTIFACTS, 'report-lab.html');
    const png = join(ARTIFACTS, 'report-lab.png');
    rmSync(png, { force: true });
    const r = await l.runNetdoctor('client', ['report', '--incident', String(await firstIncidentId()), '--format', 'html', '-o', html, '--config', config]);
    expect(r.code, r.stderr).toBe(0);

    // The detector of console errors works: a page with one is caught.
    const badDir = mkdtempSync(join(tmpdir(), 'nd-report-chromium-'));
    try {
      const bad = join(badDir, 'bad.html');
      writeFileSync(bad, '<!DOCTYPE html><html><body><p>x</p><script>nosuchFunction();</script></body></html>');
      expect(consoleErrors(chromium(['--dump-dom', `file://${bad}`]).stderr)).toEqual([expect.stringContaining('Uncaught ReferenceError')]);
    } finally {
      rmSync(badDir, { recursive: true, force: true });
    }

    const shot = chromium([`--screenshot=${png}`, '--window-size=1200,1600', `file://${html}`]);
    expect(consoleErrors(shot.stderr), shot.stderr.slice(-2000)).toEqual([]);
    expect(existsSync(png), shot.stderr.slice(-2000)).toBe(true);
    const image = decodePng(readFileSync(png));
    expect([image.width, image.height]).toEqual([1200, 1600]);
    // The lanes are drawn: the failing lanes' red and the healthy lanes' green are on screen.
    expect(image.count([215, 58, 47])).toBeGreaterThan(2000);
    expect(image.count([46, 157, 87])).toBeGreaterThan(5000);

    const dom = chromium(['--dump-dom', `file://${html}`]);
    expect(consoleErrors(dom.stderr)).toEqual([]);
    expect(dom.stdout).toMatch(/<svg [^>]*class="timeline"/);
    expect(dom.stdout.match(/<g class="lane"/g)?.length).toBe(9); // one more since the router probe joined
    expect(dom.stdout).toContain('◆ dhcp');
  }, 180_000);

  async function firstIncidentId(): Promise<number> {
    const list = await lab().runNetdoctor('client', ['report', '--list', '--format', 'json', '--config', config]);
    return (JSON.parse(list.stdout) as IncidentListDocument).incidents[0].id;
  }
});

/** Headless Chromium in a network namespace of its own (nothing but a loopback that is down). */
function chromium(args: string[]): { stdout: string; stderr: string } {
  const profile = mkdtempSync(join(tmpdir(), 'nd-report-chromium-'));
  try {
    const r = spawnSync('unshare', ['-n', 'timeout', '90', CHROMIUM, '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', `--user-data-dir=${profile}`, '--enable-logging=stderr', '--v=0', ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (r.error) throw r.error;
    return { stdout: r.stdout, stderr: r.stderr };
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/**
 * What the page itself logged (errors, failed loads): Chromium's CONSOLE lines whose source is a
 * file:// page. Chromium's own notices ("[Intervention] Slow network is detected…", deprecations)
 * come through the same INFO:CONSOLE channel and are not the page's.
 */
function consoleErrors(stderr: string): string[] {
  return stderr.split('\n').filter((l) => /Failed to load resource/.test(l)
    || (/:CONSOLE[:(]/.test(l) && /source: file:\/\//.test(l) && !/\] "\[(Intervention|Deprecation|Violation)\]/.test(l)));
}

/** Enough of PNG to count colours in Chromium's screenshots: 8-bit RGB or RGBA, not interlaced. */
function decodePng(buf: Buffer): { width: number; height: number; count(rgb: [number, number, number], tolerance?: number): number } {
  expect(buf.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  let pos = 8;
  let width = 0;
  let height = 0;
  let colourType = 0;
  const idat: Buffer[] = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect(data[8]).toBe(8);
      colourType = data[9];
      expect(data[12]).toBe(0);
    } else if (type === 'IDAT') idat.push(data);
    pos += 12 + len;
  }
  const bpp = colourType === 6 ? 4 : colourType === 2 ? 3 : 0;
  expect(bpp).toBeGreaterThan(0);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const pixels = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = pixels.subarray(y * stride, (y + 1) * stride);
    const prev = y > 0 ? pixels.subarray((y - 1) * stride, y * stride) : Buffer.alloc(stride);
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? out[i - bpp] : 0;
      const b = prev[i];
      const c = i >= bpp ? prev[i - bpp] : 0;
      let v = line[i];
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      out[i] = v & 255;
    }
  }
  return {
    width,
    height,
    count: (rgb, tolerance = 6) => {
      let n = 0;
      for (let i = 0; i < pixels.length; i += bpp) {
        if (Math.abs(pixels[i] - rgb[0]) <= tolerance && Math.abs(pixels[i + 1] - rgb[1]) <= tolerance && Math.abs(pixels[i + 2] - rgb[2]) <= tolerance) n++;
      }
      return n;
    },
  };
}
