/**
 * Running the built netdoctor as a guest inside a lab node, the way the
 * tests and the benchmarks do: in a work directory holding the lab's
 * netdoctor.yaml (so `check` finds it without --config), with HOME and the
 * XDG directories inside the lab's state dir so nothing touches the real
 * user's files (history, the DHCP probe's MAC).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PACKAGE_ROOT } from '../version.js';
import type { Lab } from './lab.js';
import type { LabNode } from './topology.js';

export const BUILT_CLI = join(PACKAGE_ROOT, 'dist', 'cli.js');

export interface GuestRun {
  code: number;
  stdout: string;
  stderr: string;
}

export class LabGuest {
  readonly workDir: string;
  readonly home: string;
  private configCount = 0;

  constructor(readonly lab: Lab) {
    this.workDir = join(lab.stateDir, 'work');
    this.home = join(lab.stateDir, 'home');
    mkdirSync(this.workDir, { recursive: true });
    mkdirSync(this.home, { recursive: true });
    writeFileSync(join(this.workDir, 'netdoctor.yaml'), lab.configYaml());
  }

  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      ...process.env,
      HOME: this.home,
      XDG_CONFIG_HOME: join(this.home, '.config'),
      XDG_STATE_HOME: join(this.home, '.local', 'state'),
      ...extra,
    };
  }

  /** Any command in the work directory with the guest's environment. */
  exec(node: LabNode, argv: string[], opts: { timeoutMs?: number; input?: string; env?: Record<string, string> } = {}): Promise<GuestRun> {
    return this.lab.exec(node, argv, { timeoutMs: opts.timeoutMs ?? 60_000, input: opts.input, env: this.env(opts.env), cwd: this.workDir });
  }

  /** `node dist/cli.js …args` inside a node. */
  runNetdoctor(node: LabNode, args: string[], opts: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<GuestRun> {
    return this.exec(node, [process.execPath, BUILT_CLI, ...args], opts);
  }

  /** Writes a config file readable from every node and returns its path. */
  writeConfig(yaml: string, name?: string): string {
    const file = join(this.lab.stateDir, 'configs', name ?? `config-${++this.configCount}.yaml`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, yaml);
    return file;
  }
}
