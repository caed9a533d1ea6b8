/**
 * A private tmux server for driving the built CLI like a person at a
 * terminal: start a command in a pane of a given size, read the pane as
 * text, press keys, resize. Each instance has its own socket (`tmux -L`) and
 * `kill()` stops only that server.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';

export const TMUX_MISSING: string | undefined = spawnSync('tmux', ['-V']).status === 0 ? undefined : 'tmux is not installed';

let count = 0;

/** The environment the UI should see: no CI markers (ink draws nothing live under CI), colour as a terminal would have it. */
export function terminalEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'CI' || k === 'CONTINUOUS_INTEGRATION' || k.startsWith('CI_') || k === 'NO_COLOR' || k.startsWith('VITEST') || k === 'FORCE_COLOR') continue;
    env[k] = v;
  }
  return { ...env, TERM: 'xterm-256color', ...extra };
}

export class Tmux {
  readonly socket = `nd-tui-${process.pid}-${++count}`;
  readonly session = 'nd';
  private started = false;

  private tmux(args: string[], env?: NodeJS.ProcessEnv): string {
    return execFileSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], { encoding: 'utf8', env: env ?? terminalEnv(), timeout: 10_000 });
  }

  /** Starts `command` (a shell line) in a detached pane of `columns` x `rows`. */
  start(command: string, columns: number, rows: number, env?: NodeJS.ProcessEnv): void {
    this.tmux(['new-session', '-d', '-s', this.session, '-x', String(columns), '-y', String(rows), command], env);
    this.started = true;
  }

  /** The pane as a person reads it; `joined` glues lines the terminal wrapped (so an overlong line shows as one). */
  capture(joined = false): string {
    return this.tmux(['capture-pane', '-p', ...(joined ? ['-J'] : []), '-t', this.session]);
  }

  /** The pane with its SGR escapes (colour, bold, inverse), as tmux holds it. */
  captureStyled(): string {
    return this.tmux(['capture-pane', '-p', '-e', '-t', this.session]);
  }

  keys(...keys: string[]): void {
    this.tmux(['send-keys', '-t', this.session, ...keys]);
  }

  resize(columns: number, rows: number): void {
    this.tmux(['resize-window', '-t', this.session, '-x', String(columns), '-y', String(rows)]);
  }

  /** Polls the pane until `ok` holds; throws with the last screen after `timeoutMs`. */
  async waitFor(ok: (screen: string) => boolean, what: string, timeoutMs = 30_000): Promise<string> {
    const until = Date.now() + timeoutMs;
    let screen = '';
    while (Date.now() < until) {
      screen = this.capture();
      if (ok(screen)) return screen;
      await new Promise((r) => setTimeout(r, 150));
    }
    throw new Error(`waited ${timeoutMs} ms for ${what}; the pane shows:\n${screen}`);
  }

  /** Stops this server (and what runs in it); safe to call twice. */
  kill(): void {
    if (!this.started) return;
    this.started = false;
    spawnSync('tmux', ['-L', this.socket, 'kill-server'], { timeout: 10_000 });
    // tmux leaves its socket file behind; without this every run adds two to /tmp/tmux-UID.
    rmSync(join(process.env.TMUX_TMPDIR ?? '/tmp', `tmux-${process.getuid?.() ?? 0}`, this.socket), { force: true });
  }
}
