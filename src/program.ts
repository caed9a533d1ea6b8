/**
 * argv → command, and the one top-level catch that turns every error into a
 * message and an exit code. Commands are imported only when chosen, so
 * `netdoctor --version` and `netdoctor check` never load ink/react, and
 * `--help` loads no probe.
 */
import { Command, CommanderError, Option } from 'commander';
import { parseDuration, DURATION_HINT } from './shared/duration.js';
import { ExitCode } from './shared/exit-codes.js';
import { VERSION } from './version.js';
import { UsageError, UserError, errorMessage } from './shared/errors.js';
import { didYouMean } from './shared/suggest.js';
// Only the fault names and one-line descriptions, for `lab fault --help`: nothing heavy.
import { FAULTS } from './lab/faults.js';

/** `--only dhcp,dns` and `--only dhcp --only dns` both give ['dhcp', 'dns']. */
function list(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];
}

function durationOption(flag: string, min: { ms: number; text: string } = { ms: 1, text: 'more than 0' }) {
  return (value: string): number => {
    const ms = parseDuration(value);
    if (ms === undefined) throw new UsageError(`${flag} ${JSON.stringify(value)} is not a duration (expected ${DURATION_HINT})`);
    if (ms < min.ms) throw new UsageError(`${flag} ${JSON.stringify(value)} is too short (expected ${min.text})`);
    return ms;
  };
}

const vantageOption = () =>
  new Option('--vantage <where>', 'where this runs: inside the LAN, or outside it (a VPS) looking in').choices(['inside', 'outside']).default('inside');

const EXIT_CODES_HELP = `
Exit codes (monitoring-plugins convention):
  0  ok        nothing wrong
  1  warning   something degraded (e.g. DDNS record stale)
  2  critical  something broken (e.g. no DHCP server, DNS server down)
  3  unknown   netdoctor could not tell: bad config or usage, no permission`;

const configOption = () =>
  new Option('-c, --config <file>', 'config file (default: ./netdoctor.yaml, then ~/.config/netdoctor/config.yaml, then /etc/netdoctor/config.yaml)');

/** What selects and bounds a run of the probes: the live UI's and check's options. */
function withRunOptions(cmd: Command): Command {
  return cmd
    .addOption(configOption())
    .option('--only <probes>', 'run only these probes (comma-separated: dhcp,hosts,wan,dns,vpn,ddns)', list)
    .option('--skip <probes>', 'run all probes but these', list)
    .addOption(vantageOption())
    .option('--deadline <duration>', 'upper bound for one run; probes run concurrently under it (default 10s)', durationOption('--deadline', { ms: 1000, text: 'at least 1s' }));
}

/** `done` receives the exit code a command returns (commander ignores return values). */
export function buildProgram(done: (code: number) => void = () => {}): Command {
  const program = new Command('netdoctor')
    .description(
      'Watches a small home or office network and, when it breaks, names the one root cause, ' +
        'shows the evidence and prints the exact fix. Without a command: the interactive UI.',
    )
    .version(VERSION, '-V, --version', 'print the version and exit')
    // Options belong to the command they are written after: `netdoctor --only dns` is the live UI's,
    // `netdoctor check --only dns` is check's, and `report --deadline` is an error, not silently ignored.
    .enablePositionalOptions()
    .showSuggestionAfterError(true)
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Examples:
  sudo netdoctor                      watch the network live, with diagnosis and fixes
  netdoctor demo                      the same UI replaying the Raspberry Pi outage (no network, no root)
  netdoctor demo --list               the other recorded outages you can replay
  sudo netdoctor check                one run for cron or Nagios: summary and exit code
  sudo netdoctor check --json         the same as one JSON object
  netdoctor report --last             post-incident report of the last outage
  netdoctor init                      write a starter netdoctor.yaml from what this machine knows
  netdoctor init --no-scan            the same, never asking to scan the network
${EXIT_CODES_HELP}`,
    )
    .allowExcessArguments(true)
    .action(async (opts: Record<string, unknown>, cmd: Command) => {
      if (cmd.args.length > 0) {
        const names = program.commands.map((c) => c.name());
        throw new UsageError(`unknown command ${JSON.stringify(cmd.args[0])}${didYouMean(cmd.args[0], names)}; commands are: ${names.join(', ')}`);
      }
      const { run } = await import('./commands/tui.js');
      done(await run({ ...opts }));
    });

  withRunOptions(program)
    .option(
      '--refresh <duration>',
      'auto-refresh interval when toggled with "a" (default 30s)',
      durationOption('--refresh', { ms: 5000, text: 'at least 5s, since each refresh runs every probe' }),
    )
    .option('--force', 'allow sweeping a subnet wider than /22 (at most /20)')
    .option('--user <name>', 'when started as root, drop to this user once the privileged sockets are open');

  withRunOptions(program.command('check'))
    .description('run every probe once, diagnose, print a summary (or --json) and exit 0/1/2/3')
    .option('--json', 'print one JSON object (the documented shape) instead of text')
    .option('-v, --verbose', 'also print every observation')
    .option('-q, --quiet', 'print nothing when everything is OK (for cron mail)')
    .option('--from-json <file>', 'do not probe: diagnose the observations saved in a previous --json output')
    .option('--no-history', 'do not record this run in the history database')
    .option('--no-graphite', 'do not send metrics to Graphite this time')
    .option('--prometheus-textfile <dir>', "write netdoctor.prom into DIR for node_exporter's textfile collector (overrides prometheus.textfile)")
    .option('--force', 'allow sweeping a subnet wider than /22 (at most /20)')
    .option('--user <name>', 'when started as root, drop to this user once the privileged sockets are open')
    .addHelpText('after', `${EXIT_CODES_HELP}

Examples:
  */5 * * * * netdoctor check --quiet        cron: mail only when something is wrong
  netdoctor check --only dhcp,dns -v          two probes, every observation
  netdoctor check --vantage outside --json    from a VPS: can the outside world reach home?`)
    .action(async (opts: Record<string, unknown>, cmd: Command) => {
      const { run } = await import('./commands/check.js');
      done(await run({ ...cmd.optsWithGlobals(), ...opts }));
    });

  program
    .command('report')
    .addOption(configOption())
    .description('write a post-incident report (timeline, root cause, evidence, fixes) from the run history')
    .option('--list', 'list the incidents in the history')
    .option('--incident <id>', 'report on this incident (see --list)')
    .option('--last', 'report on the most recent incident (the default)')
    .option('--since <duration>', 'report on incidents in this recent stretch, e.g. 24h', durationOption('--since'))
    .addOption(new Option('--format <format>', 'output format').choices(['md', 'html', 'json']).default('md'))
    .option('-o, --output <file>', 'write to this file instead of standard output')
    .addHelpText('after', `
Examples:
  netdoctor report --list                                  the incidents in the history
  netdoctor report                                         the last incident, as Markdown
  netdoctor report --incident 42 --format html -o outage.html
  netdoctor report --since 7d --format json`)
    .action(async (opts: Record<string, unknown>, cmd: Command) => {
      const { run } = await import('./commands/report.js');
      done(await run({ ...cmd.optsWithGlobals(), ...opts }));
    });

  program
    .command('init')
    .description('write a starter netdoctor.yaml from what this machine already knows (no packets sent unless you agree)')
    .option('-o, --output <file>', 'where to write it', 'netdoctor.yaml')
    .option('--force', 'overwrite an existing file')
    .option('--yes', 'answer yes to every question (including the active scan)')
    .option('--no-scan', 'never ask to scan the network; use only what is already known')
    .action(async (opts: Record<string, unknown>, cmd: Command) => {
      const { run } = await import('./commands/init.js');
      done(await run({ ...cmd.optsWithGlobals(), ...opts }));
    });

  program
    .command('demo')
    .description('the interactive UI replaying a recorded outage: no network, no root needed')
    .argument('[scenario]', 'scenario from fixtures/scenarios (default: unplugged-pi, the seed\'s outage)')
    .option('--list', 'list the scenarios')
    .option('--speed <factor>', 'replay speed; 2 is twice as fast', (v) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--speed ${JSON.stringify(v)} is not a positive number (expected e.g. 0.5, 1 or 4)`);
      return n;
    })
    .action(async (scenario: string | undefined, opts: Record<string, unknown>, cmd: Command) => {
      const { run } = await import('./commands/demo.js');
      done(await run({ ...cmd.optsWithGlobals(), ...opts, scenario }));
    });

  const notify = program
    .command('notify')
    .description('notification channels (notify.channels in netdoctor.yaml; see docs/notify.md)');
  notify
    .command('test')
    .description('send a sample message to every configured channel and say what happened to each')
    .addOption(configOption())
    .option('--timeout <duration>', 'give up on the channels after this long (default 15s)', durationOption('--timeout'))
    .option('--json', 'the outcome per channel as JSON')
    .action(async (opts: Record<string, unknown>, cmd: Command) => {
      const { runTest } = await import('./commands/notify.js');
      done(await runTest({ ...cmd.optsWithGlobals(), ...opts }));
    });

  program
    .command('diagnose')
    .addOption(configOption())
    .description('replay an incident: run the rule engine on observations saved by `check --json`')
    .argument('<file>', 'a file written by `netdoctor check --json`, a fixtures/scenarios/*/observations.json (its config.yaml is used), or - for standard input')
    .option('--json', 'print the diagnosis as JSON (the check --json document)')
    .option('-v, --verbose', 'also print every fix in full and every observation')
    .action(async (file: string, opts: Record<string, unknown>, cmd: Command) => {
      const { run } = await import('./commands/diagnose.js');
      done(await run({ ...cmd.optsWithGlobals(), ...opts, fromJson: file }));
    });

  const lab = program
    .command('lab')
    .description('a virtual copy of the seed\'s home network in network namespaces, with named faults to practise on (Linux, root)')
    .addHelpText('after', `
Examples:
  sudo netdoctor lab up                      build the healthy network (a few seconds)
  sudo netdoctor lab fault unplugged-pi      the outage netdoctor was born from: the router's DHCP
                                             stops, the Pis re-plug and lose their addresses
  sudo netdoctor lab exec client -- netdoctor check
  sudo netdoctor lab heal && sudo netdoctor lab down
Every lab command takes --prefix NAME (default nd) to pick one of several labs.`);
  const labCommand = (name: string, description: string) =>
    lab
      .command(name)
      .description(description)
      .option('--prefix <p>', 'name prefix of this lab, so several can coexist', 'nd');
  const labAction = (sub: string) => async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    const { run } = await import('./commands/lab.js');
    done(await run({ ...cmd.optsWithGlobals(), sub, args: cmd.args }));
  };
  labCommand('up', 'build the lab and start its servers').option('--fault <names>', 'start with these faults', list).action(labAction('up'));
  labCommand('down', 'stop every process of the lab and remove its namespaces').action(labAction('down'));
  labCommand('status', 'namespaces, addresses and servers of the lab').option('--json', 'as JSON').action(labAction('status'));
  labCommand('fault', 'apply named faults (see --help for the list)')
    .argument('<names...>', 'fault names')
    .addHelpText('after', `\nFaults (composable; \`lab heal\` undoes all):\n${Object.entries(FAULTS).map(([n, d]) => `  ${n.padEnd(18)} ${d}`).join('\n')}`)
    .action(labAction('fault'));
  labCommand('heal', 'undo every fault: back to the healthy network').action(labAction('heal'));
  labCommand('exec', 'run a command inside a node of the lab')
    .argument('<node>', 'router, pi-dns, pi-vpn, client, isp or vps')
    .argument('<command...>', 'the command, after --')
    .addHelpText('after', '\nPut the command after --, e.g. netdoctor lab exec client -- ip addr')
    .action(labAction('exec'));
  labCommand('config', 'print a netdoctor.yaml that describes the lab network').action(labAction('config'));
  labCommand('scale', 'the scale lab: a /22 with N live devices (one MAC each), up to 50 inventory hosts, two DNS servers')
    .argument('<action>', 'up, down, config or exec')
    .argument('[command...]', 'for exec: the command, after --')
    .option('--devices <n>', 'live devices on the /22 (2-1000)', '100')
    .option('--inventory <n>', 'inventory hosts in the config (default: min(devices, 50))')
    .addHelpText('after', '\nExamples:\n  sudo netdoctor lab scale up --devices 1000\n  sudo netdoctor lab scale exec -- netdoctor check --config <(netdoctor lab scale config)\n  sudo netdoctor lab scale down')
    .action(labAction('scale'));

  return program;
}

/** Runs the CLI and returns the exit code; never throws. */
export async function main(argv: string[]): Promise<number> {
  let exitCode: number = ExitCode.ok;
  const program = buildProgram((code) => {
    exitCode = code;
  });
  program.exitOverride();
  for (const c of program.commands) {
    c.exitOverride();
    for (const s of c.commands) s.exitOverride();
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here too, with code 0; commander already printed.
      if (err.exitCode === 0) return ExitCode.ok;
      return ExitCode.unknown;
    }
    if (err instanceof UserError) {
      process.stderr.write(`netdoctor: ${err.message}\n${err.hint ? `${err.hint}\n` : ''}`);
      return ExitCode.unknown;
    }
    process.stderr.write(
      `netdoctor: internal error: ${errorMessage(err)}\n` +
        (process.env.NETDOCTOR_DEBUG ? `${(err as Error)?.stack ?? ''}\n` : 'Set NETDOCTOR_DEBUG=1 for the stack trace, and please report it.\n'),
    );
    return ExitCode.unknown;
  }
}
