/**
 * Names: does each DNS server devices use answer, do outside names resolve
 * through it, and are the local names right. In the seed, the router kept
 * handing out the DNS Pi's old address, and "the internet stopped working".
 */
import type { HostConfig } from '../../config/schema.js';
import { DNS_WRONG_ANSWER_REASONS, type Observation } from '../../probes/types.js';
import { compareIp, isIPv4 } from '../../shared/ipv4.js';
import { plural } from '../../shared/text.js';
import { restartServiceFix } from '../fixes.js';
import { dataOf, listOf, type DnsQueryData, type DnsServerData } from '../observed.js';
import { same, type ExplainEdge, type FindingDraft, type Rule, type RuleContext } from '../rule.js';
import type { Fix } from '../types.js';
import { ipName, listing } from '../words.js';

interface ServerView {
  server: string;
  obs?: Observation;
  queries: Observation[];
  /** The server-level verdict: the probe's, or derived from the queries when it gave none. */
  reason: string;
  status: Observation['status'];
}

function serversOf(ctx: RuleContext): ServerView[] {
  const views = new Map<string, ServerView>();
  const view = (server: string) => {
    let v = views.get(server);
    if (!v) {
      v = { server, queries: [], reason: '', status: 'ok' };
      views.set(server, v);
    }
    return v;
  };
  for (const o of ctx.of('dns', 'server')) {
    const v = view(o.labels.server ?? dataOf<DnsServerData>(o).server ?? o.subject);
    v.obs = o;
  }
  for (const q of ctx.of('dns', 'query')) {
    view(q.labels.server ?? dataOf<DnsQueryData>(q).server ?? q.subject.split('/')[0]).queries.push(q);
  }
  for (const v of views.values()) {
    if (v.obs) {
      v.status = v.obs.status;
      v.reason = v.obs.reason;
      continue;
    }
    const judged = v.queries.filter((q) => kindOf(q) !== 'reverse' && (q.status === 'ok' || q.status === 'fail'));
    if (judged.length === 0) {
      v.status = v.queries.some((q) => q.status === 'error') ? 'error' : 'ok';
      v.reason = v.status === 'error' ? 'error' : 'healthy';
    } else if (judged.every((q) => q.status === 'fail' && q.reason === 'timeout')) {
      v.status = 'fail';
      v.reason = 'unreachable';
    } else if (judged.every((q) => q.status === 'fail' && q.reason === 'refused')) {
      v.status = 'fail';
      v.reason = 'refused';
    } else if (judged.every((q) => q.status === 'fail') && judged.some(answeredNothing)) {
      v.status = 'fail';
      v.reason = 'failing';
    } else {
      v.status = judged.some((q) => q.status === 'fail') ? 'fail' : 'ok';
      v.reason = v.status === 'ok' ? 'healthy' : 'partial';
    }
  }
  // The config's order first (the servers people rely on most), then the rest by address: never the order queries finished in.
  const rank = (ip: string) => {
    const i = ctx.config.dns.servers.indexOf(ip);
    return i >= 0 ? i : ctx.config.dns.servers.length;
  };
  return [...views.values()].sort((a, b) => rank(a.server) - rank(b.server) || compareAddresses(a.server, b.server));
}

function compareAddresses(a: string, b: string): number {
  return isIPv4(a) && isIPv4(b) ? compareIp(a, b) : a < b ? -1 : a > b ? 1 : 0;
}

/** A local name the server could not answer at all: not a wrong address, but SERVFAIL, silence, a refusal. */
function answeredNothing(q: Observation): boolean {
  return kindOf(q) === 'record' && q.status === 'fail' && !DNS_WRONG_ANSWER_REASONS.includes(q.reason);
}

function kindOf(q: Observation): string {
  return q.labels.kind ?? dataOf<DnsQueryData>(q).kind ?? 'record';
}

function nameOf(q: Observation): string {
  return q.labels.name ?? dataOf<DnsQueryData>(q).name ?? q.subject.split('/')[1] ?? q.subject;
}

function sourcesText(ctx: RuleContext, v: ServerView): string {
  const sources = listOf(v.obs?.labels.source ?? dataOf<DnsServerData>(v.obs).sources);
  const clauses: string[] = [];
  if (sources.includes('router') || ctx.config.router.dnsServer === v.server) clauses.push('the router hands it out to every device (router.dnsServer)');
  if (sources.includes('dhcp')) clauses.push('a DHCP offer on the LAN names it');
  if (sources.includes('config') || ctx.config.dns.servers.includes(v.server)) clauses.push('it is in dns.servers');
  if (sources.includes('resolv.conf')) clauses.push("this machine's /etc/resolv.conf lists it");
  return clauses.length ? `${v.server} is a DNS server devices use: ${listing(clauses)}.` : `${v.server} is a DNS server netdoctor was told to check.`;
}

/** True only when the probe identified the server as dnsmasq (`data.software`, e.g. from a CHAOS version.bind answer); a role is no proof. */
function isDnsmasq(v: ServerView): boolean {
  const software = (v.obs?.data as { software?: unknown } | undefined)?.software;
  return typeof software === 'string' && /dnsmasq/i.test(software);
}

/** Restart the DNS server: dnsmasq by name when known, otherwise find which server holds port 53 first. */
function restartDnsFix(host: HostConfig | undefined, v: ServerView): Fix {
  if (isDnsmasq(v)) return restartServiceFix(host, v.server, ['dnsmasq'], 'the DNS server (dnsmasq)');
  const where = host?.name ?? v.server;
  return {
    title: `Restart the DNS server on ${where}`,
    steps: [
      `Log in to ${host ? `${host.name} (${host.ip})` : v.server}.`,
      "Find which DNS server it runs: sudo ss -lunp 'sport = :53' names the program on port 53 (dnsmasq, pihole-FTL, named, unbound…); if nothing is listed, systemctl list-units --all | grep -Ei 'dnsmasq|pihole|named|bind9|unbound' shows the stopped one.",
      'Restart that unit and read why it stopped: sudo systemctl restart UNIT; sudo journalctl -u UNIT -n 50 --no-pager. Make it start at boot: sudo systemctl enable UNIT.',
    ],
  };
}

const serverDown: Rule = {
  id: 'dns-server',
  family: 'dns',
  question: 'whether each DNS server answers, and whether outside names resolve through it',
  needs: ['dns'],
  produces: ['dns-server-down', 'dns-server-failing', 'dns-upstream-failing', 'dns-partial', 'dns-unknown'],
  match(ctx) {
    const out: FindingDraft[] = [];
    for (const v of serversOf(ctx)) {
      const who = ipName(ctx, v.server);
      const host = ctx.hostByIp(v.server);
      const asked = v.queries.filter((q) => kindOf(q) !== 'reverse').map(nameOf);
      const askedText = asked.length ? ` for ${listing([...new Set(asked)].slice(0, 4))}${asked.length > 4 ? ' and more' : ''}` : '';
      const evidence = [...(v.obs ? [v.obs.id] : []), ...v.queries.map((q) => q.id)];
      const used = sourcesText(ctx, v);
      if (v.status === 'fail' && (v.reason === 'unreachable' || v.reason === 'refused')) {
        const refused = v.reason === 'refused';
        const where = host ? ctx.whereIs(host) : undefined;
        const fixes: Fix[] = [];
        if (refused) {
          fixes.push(restartDnsFix(host, v));
          fixes.push({
            title: `See what listens on port 53 at ${who}`,
            steps: [
              `On ${host?.name ?? v.server}: sudo ss -lunp 'sport = :53' lists the DNS server if one runs; nothing listed means none does.`,
              `If another program holds port 53 (systemd-resolved, a second dnsmasq, Pi-hole), stop it or move it before restarting ${isDnsmasq(v) ? 'dnsmasq' : 'the DNS server'}.`,
            ],
          });
        } else {
          fixes.push({
            title: `Bring ${host ? host.name : v.server} back on ${v.server}`,
            steps: [
              host
                ? `Check ${host.name}: power, cable, and its address (ip -4 addr show on it should list ${v.server}).`
                : `Check the machine at ${v.server} is on and on the network.`,
              'Check: sudo netdoctor check --only dns',
            ],
          });
        }
        if (ctx.config.router.dnsServer === v.server) {
          fixes.push({
            title: `For now, hand out a DNS server that answers`,
            steps: [
              `In the router's DHCP settings, change the DNS server from ${v.server} to one that works (the router's own address, or your ISP's), until ${refused ? `DNS on ${host ? host.name : v.server} answers again` : `${host ? host.name : v.server} is back`}.`,
              'Devices pick it up when they renew their lease; reconnect them to hurry it.',
            ],
          });
        }
        out.push({
          id: 'dns-server-down',
          labels: { server: v.server },
          severity: 'critical',
          title: refused
            ? `DNS server ${who} refuses queries: nothing serves DNS on port 53`
            : `DNS server ${who} is silent: ${asked.length ? `${plural(asked.length, 'query', 'queries')} got no answer` : 'no answer to any query'}`,
          explanation:
            `${used} netdoctor asked it${askedText}: ` +
            (refused
              ? `the machine answered that nothing listens on port 53 (port unreachable or REFUSED) — it is up, but no DNS server${host?.roles?.includes('dns') ? ' (dnsmasq)' : ''} runs on it.`
              : `none of the queries got an answer, not even a refusal — nothing is at that address, or it is cut off.`) +
            (where && where.state === 'at-expected' && !refused ? ` ${host!.name} itself was found at ${v.server}, so it is up but not answering DNS.` : ''),
          impact: `Devices that use ${v.server} cannot resolve names: web sites, ${Object.keys(ctx.config.dns.records).slice(0, 2).join(', ') || 'local names'} — to them "the internet stopped working".`,
          consequence: ctx.config.router.dnsServer === v.server
            ? `the router still hands out ${v.server} as the DNS server, and ${refused ? 'nothing serves DNS' : 'nothing answers'} there`
            : `nothing ${refused ? 'serves' : 'answers'} DNS at ${v.server}`,
          evidence,
          fixes,
        });
        continue;
      }
      if (v.status === 'error' || (v.queries.length > 0 && v.queries.every((q) => q.status === 'error'))) {
        const why = v.obs?.status === 'error' ? v.obs.summary : v.queries.find((q) => q.status === 'error')?.summary ?? 'no verdict';
        out.push({
          id: 'dns-unknown',
          labels: { server: v.server },
          severity: 'unknown',
          title: `DNS at ${who} could not be checked: ${why}`,
          explanation: `netdoctor could not judge ${v.server}: ${why}. That is not the same as healthy.`,
          impact: `Unknown whether devices that use ${v.server} can resolve names.`,
          evidence,
          fixes: [{ title: 'Check it by hand, then run netdoctor again', steps: [`dig @${v.server} ${asked[0] ?? 'example.com'}`, 'Then: sudo netdoctor check --only dns'] }],
        });
        continue;
      }
      // It replies, yet not one name resolves (SERVFAIL to everything, say): for the devices that use it,
      // that is as bad as a dead server, and "some names but not others" would be untrue.
      if (v.status === 'fail' && v.reason === 'failing') {
        const failed = v.queries.filter((q) => kindOf(q) !== 'reverse' && q.status === 'fail');
        const byReason = new Map<string, string[]>();
        for (const q of failed) byReason.set(q.reason, [...(byReason.get(q.reason) ?? []), nameOf(q)]);
        const failures = listing([...byReason].map(([reason, names]) => `${reason} for ${listing(names)}`));
        out.push({
          id: 'dns-server-failing',
          labels: { server: v.server },
          severity: 'critical',
          title: `DNS server ${who} answers, but resolves no name: ${failures}`,
          explanation:
            `${used} It replied${askedText}, but not one answer was usable: ${failures}. ` +
            `Its DNS service runs, so the machine and port 53 are fine; what it resolves from is broken — its local names file, its upstream servers, or its own state.`,
          impact: `Devices that use ${v.server} cannot resolve names: to them "the internet stopped working".`,
          consequence: `nothing resolves through ${v.server}`,
          evidence,
          fixes: [
            restartDnsFix(host, v),
            {
              title: `Find out why ${host ? host.name : v.server} fails every name`,
              steps: [
                `On ${host ? host.name : v.server}: sudo journalctl -u ${isDnsmasq(v) ? 'dnsmasq' : 'UNIT (the DNS server\'s unit: dnsmasq, pihole-FTL, named…)'} -n 100 --no-pager shows why it fails (a bad config line, an upstream it cannot reach, DNSSEC failing on a wrong clock).`,
                `Ask it by hand: dig @${v.server} ${nameOf(failed[0])}`,
              ],
            },
          ],
        });
        continue;
      }
      const external = v.queries.filter((q) => kindOf(q) === 'external');
      const local = v.queries.filter((q) => kindOf(q) === 'record');
      const extFailed = external.filter((q) => q.status === 'fail');
      const localOk = local.filter((q) => q.status === 'ok');
      const upstream =
        (v.status === 'fail' && v.reason === 'upstream-failing') ||
        (external.length > 0 && extFailed.length === external.length && (localOk.length > 0 || local.length === 0) && v.status === 'fail');
      if (upstream) {
        const failedText = listing(extFailed.map((q) => `${nameOf(q)} (${dataOf<DnsQueryData>(q).rcodeName ?? q.reason})`));
        out.push({
          id: 'dns-upstream-failing',
          labels: { server: v.server },
          severity: 'critical',
          // Say "answers local names" only when a local name was asked and answered.
          title: localOk.length
            ? `DNS server ${who} answers local names but not outside ones: its upstream fails`
            : `DNS server ${who} answers, but resolves no outside name: its upstream fails`,
          explanation:
            `${used} ${localOk.length ? `It resolved ${listing(localOk.map(nameOf))}, but ` : 'It replied, but '}${failedText || 'outside names'} failed${local.length ? '' : ' (no local name was asked: dns.records is empty)'}. ` +
            `A LAN DNS server forwards names it does not hold to its upstream servers; those are not answering it.`,
          impact: localOk.length
            ? `Devices that use ${v.server} resolve local names but no internet names: the web looks down even where the line works.`
            : `Devices that use ${v.server} resolve no internet names: the web looks down even where the line works.`,
          consequence: `outside names stopped resolving through ${v.server}`,
          evidence,
          fixes: [isDnsmasq(v) ? {
            title: `Check the upstream servers of ${host ? host.name : v.server}`,
            steps: [
              `On ${host ? host.name : v.server}, ask each upstream server directly with the commands below (no server= lines: dnsmasq uses the nameservers in /etc/resolv.conf).`,
              'No answer from any of them: the internet or the upstream is down. One dead: replace it with another reliable one (server=1.1.1.1, server=9.9.9.9), then run sudo systemctl restart dnsmasq.',
            ],
            snippet: {
              file: `run on ${host ? host.name : v.server}`,
              language: 'sh',
              text: [
                `for s in $(grep -h '^server=' /etc/dnsmasq.conf /etc/dnsmasq.d/*.conf | cut -d= -f2); do`,
                `  echo "$s: $(dig +short +time=2 +tries=1 @"$s" ${nameOf(extFailed[0] ?? external[0])})"`,
                'done',
              ].join('\n'),
            },
          } : {
            title: `Check the upstream servers of ${host ? host.name : v.server}`,
            steps: [
              `Find the upstream servers in ${host ? host.name : v.server}'s DNS server settings (dnsmasq: server= lines, else /etc/resolv.conf; Pi-hole: Settings → DNS; a router: its WAN DNS settings).`,
              `Ask each directly: dig +short +time=2 +tries=1 @UPSTREAM ${nameOf(extFailed[0] ?? external[0])}. No answer from any: the internet or the upstream is down. One dead: replace it with another reliable one (1.1.1.1, 9.9.9.9) and restart the DNS server.`,
            ],
          }],
        });
      }
      const partial = v.queries.filter((q) => {
        if (q.status !== 'fail' || kindOf(q) === 'reverse') return false;
        if (kindOf(q) === 'record' && DNS_WRONG_ANSWER_REASONS.includes(q.reason)) return false; // wrong answers, below
        if (upstream && kindOf(q) === 'external') return false;
        return true;
      });
      if (partial.length > 0) {
        out.push({
          id: 'dns-partial',
          labels: { server: v.server },
          severity: 'warning',
          title: `DNS server ${who} answers some names but not others: ${listing(partial.map((q) => `${nameOf(q)} ${q.reason}`))}`,
          explanation: `${used} Most queries were answered, but ${listing(partial.map((q) => `${nameOf(q)} (${q.reason}: ${q.summary})`))}. A server that answers some names and not others is overloaded, losing packets, or missing part of its configuration.`,
          impact: `Some names fail, some of the time, for devices that use ${v.server}.`,
          evidence: [...(v.obs ? [v.obs.id] : []), ...partial.map((q) => q.id)],
          fixes: [{
            title: `Look at ${host ? host.name : v.server}'s DNS log`,
            steps: [
              `On ${host ? host.name : v.server}: sudo journalctl -u ${isDnsmasq(v) ? 'dnsmasq' : 'UNIT (its DNS server\'s unit: dnsmasq, pihole-FTL, named…)'} -n 100 --no-pager`,
              `Try the names again by hand: dig @${v.server} ${nameOf(partial[0])}`,
            ],
          }],
        });
      }
    }
    return out;
  },
};

const wrongAnswer: Rule = {
  id: 'dns-answers',
  family: 'dns',
  question: 'whether local names resolve to the addresses in dns.records',
  needs: ['dns'],
  produces: ['dns-wrong-answer'],
  match(ctx) {
    const out: FindingDraft[] = [];
    for (const v of serversOf(ctx)) {
      if (v.status === 'fail' && (v.reason === 'unreachable' || v.reason === 'refused')) continue;
      for (const q of v.queries) {
        if (q.status !== 'fail' || kindOf(q) !== 'record' || !DNS_WRONG_ANSWER_REASONS.includes(q.reason)) continue;
        const d = dataOf<DnsQueryData>(q);
        const name = nameOf(q);
        const expected = d.expected ?? ctx.config.dns.records[name] ?? ctx.config.dns.records[name.replace(/\.$/, '')];
        if (!expected) continue;
        const answers = listOf(d.answers);
        const actual = q.reason === 'nxdomain' ? 'NXDOMAIN' : answers.length ? answers.join(',') : 'NODATA';
        const actualText = q.reason === 'nxdomain' ? 'does not exist (NXDOMAIN)' : answers.length ? `resolves to ${listing(answers)}` : 'has no address (NOERROR, empty answer)';
        const owner = ctx.hostByIp(expected);
        const host = ctx.hostByIp(v.server);
        out.push({
          id: 'dns-wrong-answer',
          labels: { server: v.server, name, expected, actual },
          severity: 'warning',
          title: `${name} ${actualText} at ${ipName(ctx, v.server)}, expected ${expected}`,
          explanation:
            `dns.records says ${name} is ${expected}${owner ? ` (${owner.name})` : ''}. Asked at ${v.server}, it ${actualText}. ` +
            `${host ? `${host.name}'s` : `The server's`} local names are out of date, or the address in netdoctor.yaml is.`,
          impact: `Devices that connect to ${name} reach ${answers.length ? listing(answers) : 'nothing'} instead of ${expected}.`,
          consequence: `${name} ${actualText} at ${v.server}`,
          evidence: [q.id],
          fixes: [isDnsmasq(v) ? {
            title: `Make ${host ? host.name : v.server} answer ${expected} for ${name}`,
            steps: [
              `On ${host ? host.name : v.server}, write the file below (or fix the line for ${name} in /etc/hosts there), then run: sudo systemctl restart dnsmasq`,
              `Check: dig +short ${name} @${v.server} prints ${expected}.`,
              `If ${answers.length ? listing(answers) : 'the answer'} is right after all, change dns.records in netdoctor.yaml instead.`,
            ],
            snippet: { file: '/etc/dnsmasq.d/local-names.conf', language: 'conf', text: `host-record=${name.replace(/\.$/, '')},${expected}` },
          } : {
            title: `Make ${host ? host.name : v.server} answer ${expected} for ${name}`,
            steps: [
              `On ${host ? host.name : v.server}, set ${name} to ${expected} where its DNS server keeps local names (dnsmasq: /etc/hosts or a host-record= line in /etc/dnsmasq.d/; Pi-hole: Local DNS → DNS Records; a router: its static DNS entries), then restart or reload it.`,
              `Check: dig +short ${name} @${v.server} prints ${expected}.`,
              `If ${answers.length ? listing(answers) : 'the answer'} is right after all, change dns.records in netdoctor.yaml instead.`,
            ],
          }],
        });
      }
    }
    return out;
  },
};

export const dnsRules: Rule[] = [serverDown, wrongAnswer];

export const dnsEdges: ExplainEdge[] = [
  {
    cause: 'dns-server-failing',
    effect: 'dns-wrong-answer',
    because: 'a server that resolves nothing cannot give the right address for a local name either',
    when: same('server', 'server'),
  },
];
