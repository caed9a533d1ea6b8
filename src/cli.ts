#!/usr/bin/env node
/**
 * The `netdoctor` executable. Sets the exit code, and makes sure a handle a
 * probe forgot to close cannot keep cron waiting.
 */
import { main } from './program.js';

const code = await main(process.argv.slice(2));
process.exitCode = code;
setTimeout(() => process.exit(code), 100).unref();
