// Loaded with `node --import`: records every module URL the process resolves
// into the file named by $NETDOCTOR_TRACE_IMPORTS, so a test can assert what a
// command does not load.
import { register } from 'node:module';

const hooks = `
import { appendFileSync } from 'node:fs';
const out = process.env.NETDOCTOR_TRACE_IMPORTS;
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (out) appendFileSync(out, r.url + '\\n');
  return r;
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
