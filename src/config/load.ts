/**
 * Finding, parsing and validating `netdoctor.yaml`, then filling what it
 * leaves out from the machine. Every problem is reported with the file, the
 * line, the key path, the value and what would be valid — all of them at once,
 * so a user fixes a config in one pass.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { LineCounter, parseDocument, isMap, isPair, isScalar, visit, type Document, type Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../shared/errors.js';
import { inSubnet, parseCidr, type Subnet } from '../shared/ipv4.js';
import { didYouMean } from '../shared/suggest.js';
import { readMachineFacts, type MachineFacts } from './machine.js';
import { configSchema, NOTIFY_TYPES, type ConfigFile } from './schema.js';
import { resolveConfig, type Config } from './resolve.js';
import { isKeyMaterialPath, vpnKindIssues } from './vpn-kind.js';

export interface LoadOptions {
  /** `--config FILE`: when given, it must exist. */
  configPath?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Injected in tests; read from the machine otherwise. */
  machine?: MachineFacts;
}

/** The search order of DESIGN.md; the first that exists wins. */
export function configSearchPath(cwd: string, env: NodeJS.ProcessEnv): string[] {
  const xdg = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return [join(cwd, 'netdoctor.yaml'), join(xdg, 'netdoctor', 'config.yaml'), '/etc/netdoctor/config.yaml'];
}

export function findConfigFile(opts: LoadOptions = {}): string | undefined {
  const cwd = opts.cwd ?? process.cwd();
  if (opts.configPath) return resolve(cwd, opts.configPath);
  return configSearchPath(cwd, opts.env ?? process.env).find((p) => existsSync(p));
}

/** Loads the config from the search path (or `--config`); no file at all means all defaults. */
export function loadConfig(opts: LoadOptions = {}): Config {
  const cwd = opts.cwd ?? process.cwd();
  const file = findConfigFile(opts);
  const machine = opts.machine ?? readMachineFacts();
  if (!file) return resolveConfig({}, machine, { env: opts.env ?? process.env });
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable (permission denied)' : `cannot be read (${code})`;
    throw new ConfigError([{ file: displayPath(file, cwd), path: '', message: `the config file ${why}` }],
      'Pass an existing file with --config, or run `netdoctor init` to write one.');
  }
  return parseConfigText(text, { file: displayPath(file, cwd), machine, env: opts.env ?? process.env });
}

function displayPath(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') ? rel : file;
}

export interface ParseOptions {
  /** Name used in messages (`netdoctor.yaml:7: …`). */
  file: string;
  machine: MachineFacts;
  env?: NodeJS.ProcessEnv;
}

/** Parses and validates YAML text; throws {@link ConfigError} listing every problem. */
export function parseConfigText(text: string, opts: ParseOptions): Config {
  const lineCounter = new LineCounter();
  // logLevel 'error': yaml would otherwise print its warnings (e.g. a list used as a key) straight to stderr.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, logLevel: 'error' });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => ({
        file: opts.file,
        line: lineCounter.linePos(e.pos[0]).line,
        path: '',
        message: `is not valid YAML: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+.*$/, '')}`,
      })),
    );
  }
  let raw: unknown;
  try {
    rejectCollectionKeys(doc, lineCounter, opts.file);
    raw = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    // yaml throws, rather than reports, an alias without its anchor and an alias expansion past
    // maxAliasCount (a "billion laughs" file): both are still just a config that cannot be read.
    throw new ConfigError([{ file: opts.file, path: '', message: `is not valid YAML: ${(err as Error).message}` }]);
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError([{ file: opts.file, line: 1, path: '', message: 'must be a mapping of keys (like `site: home`), not a list or a single value' }]);
  }
  const located = (path: PropertyKey[], key?: string) => ({ file: opts.file, line: lineOf(doc, lineCounter, path, key) });

  const parsed = configSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.flatMap((iss) => describeIssue(iss, raw, located)));
  }
  const crossIssues = crossCheck(parsed.data).map((i) => ({ ...i, ...located(i.at) }));
  if (crossIssues.length > 0) throw new ConfigError(crossIssues.map(({ at: _at, ...rest }) => rest));
  return resolveConfig(parsed.data, opts.machine, { file: opts.file, env: opts.env ?? process.env });
}

/**
 * A list, mapping or alias used as a key means nothing to netdoctor, and yaml
 * turns each such key into a string by printing it, again at every level of
 * nesting: 800 bytes of `? ? ? …` cost it 12 s in toJS. So they are refused
 * before toJS, in one linear walk.
 */
function rejectCollectionKeys(doc: Document, lc: LineCounter, file: string): void {
  const issues: ConfigIssue[] = [];
  visit(doc, {
    Pair(_key, pair) {
      if (pair.key === null || isScalar(pair.key)) return undefined;
      const at = (pair.key as YamlNode).range?.[0];
      if (issues.length < 5) issues.push({ file, line: at === undefined ? undefined : lc.linePos(at).line, path: '', message: 'has a list, mapping or alias as a key; keys are plain words like site or hosts' });
      return visit.SKIP;
    },
  });
  if (issues.length > 0) throw new ConfigError(issues);
}

/** `hosts[1].mac` from `['hosts', 1, 'mac']`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

export function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return '';
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch {
    // A YAML alias inside its own anchor (`a: &x [*x]`) makes a value that contains itself.
    return '(a value that contains itself)';
  }
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

function lineOf(doc: Document, lc: LineCounter, path: readonly PropertyKey[], key?: string): number | undefined {
  // Walk down as far as the path exists, so a missing leaf still points at its parent.
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth) as unknown[], true) as YamlNode | undefined;
    if (!node && depth > 0) continue;
    const target = depth === 0 ? doc.contents : node;
    if (key !== undefined && depth === path.length && isMap(target)) {
      const pair = target.items.find((it) => isPair(it) && isScalar(it.key) && it.key.value === key);
      const keyNode = pair && isPair(pair) ? (pair.key as YamlNode) : undefined;
      if (keyNode?.range) return lc.linePos(keyNode.range[0]).line;
    }
    if (depth === path.length && depth > 0) {
      // Point at the key of the offending value, which is where people look.
      const parent = doc.getIn(path.slice(0, depth - 1) as unknown[], true);
      const last = path[depth - 1];
      if (isMap(parent)) {
        const pair = parent.items.find((it) => isPair(it) && isScalar(it.key) && it.key.value === last);
        const keyNode = pair && isPair(pair) ? (pair.key as YamlNode) : undefined;
        if (keyNode?.range) return lc.linePos(keyNode.range[0]).line;
      }
    }
    const range = (target as YamlNode | null | undefined)?.range;
    if (range) return lc.linePos(range[0]).line;
  }
  return undefined;
}

type Locate = (path: PropertyKey[], key?: string) => { file: string; line?: number };

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = raw;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

function describeType(value: unknown): string {
  if (value === null) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'number') return 'a number';
  if (typeof value === 'boolean') return 'true/false';
  return `a ${typeof value}`;
}

const EXPECTED: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  array: 'a list (one "- item" per line, or [a, b])',
  object: 'a mapping of keys',
  boolean: 'true or false',
};

function describeIssue(iss: z.core.$ZodIssue, raw: unknown, locate: Locate): ConfigIssue[] {
  const path = iss.path as PropertyKey[];
  const value = valueAt(raw, path);
  switch (iss.code) {
    case 'unrecognized_keys': {
      const known = knownKeysAt(path);
      return iss.keys.map((key) => ({
        ...locate(path, key),
        path: formatPath([...path, key]),
        message: `is not a known key${didYouMean(key, known)}; valid keys here: ${known.join(', ')}`,
      }));
    }
    case 'invalid_type': {
      if (value === undefined) {
        return [{ ...locate(path), path: formatPath(path), message: `is required (expected ${EXPECTED[iss.expected] ?? iss.expected})` }];
      }
      return [{
        ...locate(path),
        path: formatPath(path),
        value: formatValue(value),
        message: `is ${describeType(value)}, expected ${EXPECTED[iss.expected] ?? iss.expected}`,
      }];
    }
    case 'invalid_value':
      return [{
        ...locate(path),
        path: formatPath(path),
        value: formatValue(value),
        message: `is not one of the allowed values (expected ${iss.values.map((v) => JSON.stringify(v)).join(', ')})`,
      }];
    case 'invalid_union':
      if ((iss as { discriminator?: string }).discriminator === 'type') {
        const types = [...NOTIFY_TYPES];
        if (value === undefined) return [{ ...locate(path.slice(0, -1)), path: formatPath(path), message: `is required (expected one of ${types.join(', ')})` }];
        return [{ ...locate(path), path: formatPath(path), value: formatValue(value), message: `is not a channel type${typeof value === 'string' ? didYouMean(value, types) : ''} (expected one of ${types.join(', ')})` }];
      }
      return [{ ...locate(path), path: formatPath(path), value: formatValue(value), message: `is ${describeType(value)}, expected ${DURATION_OR_TEXT}` }];
    default:
      // A mistyped key may be a private one: say what is wrong with it, never what it is.
      return [{ ...locate(path), path: formatPath(path), value: isKeyMaterialPath(path) ? '(not shown)' : formatValue(value), message: iss.message }];
  }
}

// Besides the channel type (a discriminated union), the only union is the duration (text or bare seconds).
const DURATION_OR_TEXT = 'a duration like 2s or 500ms';

/** Keys the schema allows at a path, for "did you mean" and the list of valid keys. */
function knownKeysAt(path: readonly PropertyKey[]): string[] {
  let schema: unknown = configSchema;
  const unwrap = (s: unknown): unknown => {
    let cur = s as { _zod: { def: Record<string, unknown> } };
    for (;;) {
      const def = cur._zod.def;
      if (def.type === 'optional' || def.type === 'default' || def.type === 'nullable') cur = def.innerType as typeof cur;
      else if (def.type === 'pipe') cur = def.in as typeof cur;
      else return cur;
    }
  };
  for (const p of path) {
    const def = (unwrap(schema) as { _zod: { def: Record<string, unknown> } })._zod.def;
    if (def.type === 'object') schema = (def.shape as Record<string, unknown>)[String(p)];
    else if (def.type === 'array') schema = def.element;
    else if (def.type === 'record') schema = def.valueType;
    else return [];
    if (!schema) return [];
  }
  const def = (unwrap(schema) as { _zod: { def: Record<string, unknown> } })._zod.def;
  return def.type === 'object' ? Object.keys(def.shape as object) : [];
}

interface CrossIssue extends ConfigIssue {
  at: PropertyKey[];
}

/** Rules that span keys: unique hosts, references between sections, addresses inside the LAN. */
function crossCheck(cfg: ConfigFile): CrossIssue[] {
  const issues: CrossIssue[] = [];
  const add = (at: PropertyKey[], value: unknown, message: string) =>
    issues.push({ at, path: formatPath(at), value: formatValue(value), message });

  const hosts = cfg.hosts ?? [];
  for (const field of ['name', 'mac', 'ip'] as const) {
    const first = new Map<string, number>();
    hosts.forEach((h, i) => {
      const v = field === 'name' ? h.name.toLowerCase() : h[field];
      const seen = first.get(v);
      if (seen === undefined) first.set(v, i);
      else add(['hosts', i, field], h[field], `is already used by hosts[${seen}] ("${hosts[seen].name}"); each host needs its own ${field === 'ip' ? 'address' : field}`);
    });
  }

  const names = hosts.map((h) => h.name);
  if (cfg.vpn?.host !== undefined && !names.includes(cfg.vpn.host)) {
    add(['vpn', 'host'], cfg.vpn.host,
      `is not the name of a host in hosts${didYouMean(cfg.vpn.host, names)}; ${names.length ? `known hosts: ${names.join(', ')}` : 'add the VPN machine under hosts first'}`);
  }

  issues.push(...vpnKindIssues(cfg).map(([at, value, message]) => ({ at, path: formatPath(at), value: formatValue(value), message })));

  const { subnet, from } = lanSubnet(cfg);
  if (subnet) {
    const outside = (at: PropertyKey[], ip: string | undefined, what: string) => {
      if (ip !== undefined && !inSubnet(ip, subnet)) add(at, ip, `is outside the subnet ${subnet.cidr}${from}; ${what}`);
    };
    hosts.forEach((h, i) => outside(['hosts', i, 'ip'], h.ip, 'a host netdoctor watches must be on the LAN'));
    outside(['router', 'ip'], cfg.router?.ip, 'the router must be on the LAN');
    (cfg.router?.forwards ?? []).forEach((f, i) =>
      outside(['router', 'forwards', i, 'to'], f.to, 'a port forward can only point at an address on the LAN'));
    if (cfg.router?.ip !== undefined && inSubnet(cfg.router.ip, subnet) && cfg.router.ip === subnet.network) {
      add(['router', 'ip'], cfg.router.ip, `is the network address of ${subnet.cidr}, not a host`);
    }
  }
  return issues;
}

/**
 * Only an explicit `subnet` is checked against: the machine's own subnet is a
 * poor judge when the same config runs from an outside vantage (a VPS).
 */
function lanSubnet(cfg: ConfigFile): { subnet?: Subnet; from: string } {
  return { subnet: cfg.subnet ? parseCidr(cfg.subnet) : undefined, from: '' };
}
