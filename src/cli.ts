#!/usr/bin/env node
/**
 * The `netdoctor` executable. Sets the exit code, and makes sure a handle a
 * probe forgot to close cannot keep cron waiting.
 */
import { main } from './program.js';

// `netdoctor check --help | head`: the reader went away; that is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
setTimeout(() => process.exit(code), 100).unref();
