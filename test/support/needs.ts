/**
 * Preconditions outside the lab (root, tmux, a built dist/): a test or block that
 * lacks one is skipped with one console line saying why, and under
 * NETDOCTOR_LAB=required it fails with that reason instead.
 */
import { describe, it } from 'vitest';

const announced = new Set<string>();
const required = () => process.env.NETDOCTOR_LAB === 'required';

function announce(name: string, reason: string): void {
  if (announced.has(`${name}\0${reason}`)) return;
  announced.add(`${name}\0${reason}`);
  console.warn(`skipped "${name}": ${reason} (set NETDOCTOR_LAB=required to make this a failure)`);
}

/** describe() when `missing` is undefined; else a skip that says why, or a failure under NETDOCTOR_LAB=required. */
export function describeNeeds(missing: string | undefined, name: string, body: () => void): void {
  if (missing === undefined) return void describe(name, body);
  if (required()) {
    return void describe(name, () => {
      it('has what it needs (NETDOCTOR_LAB=required)', () => {
        throw new Error(`required (NETDOCTOR_LAB=required) but cannot run here: ${missing}`);
      });
    });
  }
  announce(name, missing);
  describe.skip(name, body);
}

/** it() when `missing` is undefined; else a skip that says why, or a failure under NETDOCTOR_LAB=required. */
export function itNeeds(missing: string | undefined, name: string, fn: () => unknown, timeout?: number): void {
  if (missing === undefined) return void it(name, fn, timeout);
  if (required()) {
    return void it(name, () => {
      throw new Error(`required (NETDOCTOR_LAB=required) but cannot run here: ${missing}`);
    });
  }
  announce(name, missing);
  it.skip(name, fn);
}

/** Why a test that needs root cannot run, or undefined. */
export const NOT_ROOT: string | undefined = process.getuid?.() === 0 ? undefined : 'needs root (run as root, e.g. in CI)';

/** Inside a running test that finds it lacks something: skip it, saying why, or fail under NETDOCTOR_LAB=required. */
export function skipHere(ctx: { skip: (note?: string) => never; task: { name: string } }, missing: string): never {
  if (required()) throw new Error(`required (NETDOCTOR_LAB=required) but cannot run here: ${missing}`);
  announce(ctx.task.name, missing);
  return ctx.skip(missing);
}
