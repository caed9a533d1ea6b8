#!/usr/bin/env node
// npm run test:load [-- vitest args]: the suite with every core kept busy by CPU hogs this script
// starts (one per core, each ending by itself after NETDOCTOR_LOAD_MAX_S seconds, default 3600,
// and killed by pid when the runs end, pass or fail). NETDOCTOR_LOAD_RUNS=3 runs it three times
// in a row and stops at the first failure.
import { spawn, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

const runs = Number(process.env.NETDOCTOR_LOAD_RUNS ?? 1);
const maxS = Number(process.env.NETDOCTOR_LOAD_MAX_S ?? 3600);
const hogs = Array.from({ length: availableParallelism() }, () =>
  spawn(process.execPath, ['-e', `const end = Date.now() + ${maxS * 1000}; while (Date.now() < end);`], { stdio: 'ignore' }));
const stopHogs = () => { for (const h of hogs) if (h.exitCode === null && h.signalCode === null) h.kill('SIGKILL'); };
process.on('exit', stopHogs);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => { stopHogs(); process.exit(128 + 2); });

console.log(`test:load: ${hogs.length} CPU hogs (pids ${hogs.map((h) => h.pid).join(' ')}), ${runs} run(s)`);
let status = 0;
for (let i = 1; i <= runs && status === 0; i++) {
  const t0 = Date.now();
  const r = spawnSync('npx', ['vitest', 'run', ...process.argv.slice(2)], { stdio: 'inherit' });
  status = r.status ?? 1;
  console.log(`test:load: run ${i}/${runs} ${status === 0 ? 'passed' : 'FAILED'} in ${Math.round((Date.now() - t0) / 1000)} s`);
}
stopHogs();
process.exit(status);
