#!/usr/bin/env node
// npm run test:load [-- vitest args]: the suite with every core kept busy by CPU hogs this script
// starts, one per core. Each hog ends by itself when this script is gone or after
// NETDOCTOR_LOAD_MAX_S seconds (default 3600), and is killed by pid when the runs end, pass, fail
// or signal. NETDOCTOR_LOAD_RUNS=3 runs the suite three times in a row, stopping at a failure.
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';

const runs = Number(process.env.NETDOCTOR_LOAD_RUNS ?? 1);
const maxS = Number(process.env.NETDOCTOR_LOAD_MAX_S ?? 3600);
const HOG = `const end = Date.now() + ${maxS * 1000}; const parent = process.ppid;
for (let i = 0; Date.now() < end; i++) if (i % 1e6 === 0 && process.ppid !== parent) break;`;
const hogs = Array.from({ length: availableParallelism() }, () => spawn(process.execPath, ['-e', HOG], { stdio: 'ignore' }));
const stopHogs = () => { for (const h of hogs) if (h.exitCode === null && h.signalCode === null) h.kill('SIGKILL'); };
let vitest;
process.on('exit', stopHogs);
for (const [sig, n] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]]) {
  process.on(sig, () => { vitest?.kill(sig); stopHogs(); process.exit(128 + n); });
}

console.log(`test:load: ${hogs.length} CPU hogs (pids ${hogs.map((h) => h.pid).join(' ')}), ${runs} run(s)`);
let status = 0;
for (let i = 1; i <= runs && status === 0; i++) {
  const t0 = Date.now();
  vitest = spawn('npx', ['vitest', 'run', ...process.argv.slice(2)], { stdio: 'inherit' });
  status = await new Promise((resolve) => vitest.on('exit', (code) => resolve(code ?? 1)));
  console.log(`test:load: run ${i}/${runs} ${status === 0 ? 'passed' : 'FAILED'} in ${Math.round((Date.now() - t0) / 1000)} s`);
}
stopHogs();
process.exit(status);
