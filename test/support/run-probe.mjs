#!/usr/bin/env node
// Runs ONE probe from the built dist/ and prints its observations as a JSON
// array on stdout. The lab harness starts it inside a node:
//
//   ip netns exec <ns> node test/support/run-probe.mjs  < request.json
//
// request: { probe: "dns" | module: "/abs/probe.js", configYaml?, deadlineMs?, options?, vantage? }
// The config is parsed with netdoctor's own loader, with the machine facts
// (interfaces, default route, resolv.conf) read inside the namespace, and the
// probe runs under the real runner, so deadlines and error handling are the
// product's. Exit 0 with the observations, 2 with a message on stderr.
import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const root = new URL('../../', import.meta.url);
const dist = (p) => new URL(`dist/${p}`, root);

function fail(message) {
  process.stderr.write(`run-probe: ${message}\n`);
  process.exit(2);
}

/** The probe a module exports: `<name>Probe`, the default export, or any export that looks like one. */
function pickProbe(mod, name) {
  const looksLikeProbe = (v) => v !== null && typeof v === 'object' && typeof v.run === 'function' && typeof v.name === 'string';
  const candidates = [name ? mod[`${name}Probe`] : undefined, mod.default, ...Object.values(mod)].filter(looksLikeProbe);
  return candidates.find((p) => !name || p.name === name) ?? (name ? undefined : candidates[0]);
}

let request;
try {
  request = JSON.parse(readFileSync(0, 'utf8'));
} catch (err) {
  fail(`expected a JSON request on stdin: ${err.message}`);
}
if (!request.probe && !request.module) fail('the request names neither "probe" nor "module"');
if (!existsSync(dist('probes/runner.js'))) fail('dist/ is not built: run `npx tsc -p tsconfig.build.json` first');

const moduleUrl = request.module ? pathToFileURL(request.module) : dist(`probes/${request.probe}.js`);
if (!existsSync(moduleUrl)) fail(`no probe module at ${moduleUrl.pathname}${request.probe ? ' (is the probe written and built?)' : ''}`);

const [{ parseConfigText }, { readMachineFacts }, { selectProbes, runProbes }, mod] = await Promise.all([
  import(dist('config/load.js').href),
  import(dist('config/machine.js').href),
  import(dist('probes/runner.js').href),
  import(moduleUrl.href),
]);
const probe = pickProbe(mod, request.probe);
if (!probe) fail(`${moduleUrl.pathname} exports no probe${request.probe ? ` named ${JSON.stringify(request.probe)}` : ''}`);

let config;
try {
  config = parseConfigText(request.configYaml ?? '', { file: 'lab.yaml', machine: readMachineFacts(), env: process.env });
} catch (err) {
  fail(`the config does not load: ${err.message}`);
}
const vantage = request.vantage ?? 'inside';
const selection = selectProbes([probe], { vantage });
const result = await runProbes({
  config,
  selection,
  vantage,
  deadlineMs: request.deadlineMs ?? config.deadlineMs,
  options: request.options ?? {},
});
process.stdout.write(`${JSON.stringify(result.observations)}\n`);
