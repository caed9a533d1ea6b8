/**
 * The way out: does the router answer, does the internet, and is the router
 * really on the internet or behind the ISP's carrier-grade NAT (where no port
 * forward can ever work).
 */
import { dataOf, listOf, type DnsQueryData, type HopData, type PingData, type PublicIpData, type WanSummaryData } from '../observed.js';
import { cgnatRule } from './cgnat.js';
import type { Observation } from '../../probes/types.js';
import { same, type ExplainEdge, type FindingDraft, type Rule, type RuleContext } from '../rule.js';
import { listing } from '../words.js';

/**
 * Observations that prove the internet answers, whatever ping says: a
 * what-is-my-IP source fetched, the DDNS name resolved at an outside
 * resolver, an outside name resolved through the LAN's DNS. Targets that
 * drop ICMP echo must not make the internet look down.
 */
export function internetAnswers(ctx: RuleContext): Observation[] {
  const pub = ctx.of('ddns', 'public-ip').filter((o) => o.status === 'ok' && /^https?:/i.test(o.labels.source ?? dataOf<PublicIpData>(o).source ?? ''));
  const rec = ctx.of('ddns', 'record').filter((o) => o.status === 'ok' || (o.status === 'fail' && o.reason === 'stale'));
  const ext = ctx.of('dns', 'query').filter((o) => o.status === 'ok' && (o.labels.kind ?? dataOf<DnsQueryData>(o).kind) === 'external');
  return [...pub, ...rec, ...ext];
}

function lossText(d: Partial<PingData>, values: Record<string, number>): string {
  const loss = d.lossPct ?? values.loss_pct;
  return typeof loss === 'number' ? `${Math.round(loss)}% of pings lost` : 'no reply to ping';
}

const gateway: Rule = {
  id: 'wan-gateway',
  family: 'wan',
  question: 'whether the router answers',
  needs: ['wan'],
  produces: ['gateway-down'],
  match(ctx) {
    const summary = ctx.first('wan', 'summary');
    const out: FindingDraft[] = [];
    for (const o of ctx.of('wan', 'gateway')) {
      if (o.status !== 'fail') continue;
      // A router that drops pings but still carries traffic out is not down.
      if (summary?.status === 'ok' || internetAnswers(ctx).length > 0) continue;
      const d = dataOf<PingData>(o);
      const ip = o.labels.ip ?? d.ip ?? o.subject;
      out.push({
        id: 'gateway-down',
        labels: { ip },
        severity: 'critical',
        title: `The router ${ip} does not answer: the LAN has no way out`,
        explanation:
          `netdoctor pinged the default gateway ${ip}${ip === ctx.config.router.ip ? ' (router.ip)' : ''}${ctx.config.interface ? ` from ${ctx.config.interface}` : ''}: ${lossText(d, o.values)}${d.mac ? '' : ', and its MAC is not in the neighbour table'}. ` +
          'Everything beyond the LAN goes through it, and so do DHCP, its DNS relay and its port forwards.',
        impact: 'No device on the LAN reaches the internet; whatever the router provides (DHCP, port forwards) is down with it.',
        consequence: `the router ${ip} stopped answering`,
        evidence: [o.id, ...(summary ? [summary.id] : [])],
        fixes: [{
          title: `Bring the router ${ip} back`,
          steps: [
            'Check the router has power and its lights look normal; check the cable from this machine to the router or switch.',
            `On this machine: ip -br addr show ${ctx.config.interface ?? ''}`.trimEnd() + ` should list an address in ${ctx.net.subnet?.cidr ?? 'the LAN'}; if not, this machine itself lost its link or address.`,
            'Restart the router (power off, 10 seconds, on) and give it two minutes.',
            'Check: sudo netdoctor check',
          ],
        }],
      });
    }
    return out;
  },
};

const internet: Rule = {
  id: 'wan-internet',
  family: 'wan',
  question: 'whether the internet is reachable',
  needs: ['wan'],
  produces: ['wan-down', 'wan-ping-blind'],
  match(ctx) {
    const summary = ctx.first('wan', 'summary');
    const targets = ctx.of('wan', 'target');
    const down = summary ? summary.status === 'fail' : targets.length > 0 && targets.every((t) => t.status === 'fail');
    if (!down) return [];
    const answers = internetAnswers(ctx);
    if (answers.length > 0) return [pingBlind(ctx, summary ? [summary] : targets, answers)];
    const d = dataOf<WanSummaryData>(summary);
    const tried = listOf(d.unreachable).length ? listOf(d.unreachable) : targets.map((t) => t.labels.ip ?? t.subject);
    const gw = ctx.of('wan', 'gateway').find((g) => g.status === 'ok');
    const hop = ctx.first('wan', 'hop');
    const hopAddr = dataOf<HopData>(hop).address;
    const routerIp = gw ? gw.labels.ip ?? gw.subject : ctx.config.router.ip;
    return [{
      id: 'wan-down',
      labels: {},
      severity: 'critical',
      title: `Internet unreachable: ${tried.length === 1 ? `${tried[0]} does not answer` : `none of ${listing(tried, 'or')} answers`}${gw ? ` (the router ${routerIp} does)` : ''}`,
      explanation:
        `netdoctor pinged the outside addresses in wan.targets (${listing(tried)}): none answered. ` +
        (gw ? `The router ${routerIp} answers, so the LAN is fine and the break is beyond it: the router's WAN link, the modem, or the ISP. ` : '') +
        (hop ? (hop.status === 'ok' && hopAddr ? `The first router past the gateway (${hopAddr}) still answers, so the ISP's side is reached but goes no further.` : 'The first router past the gateway does not answer either.') : ''),
      impact: 'No device reaches the internet: web, outside names, the DDNS update and outside servers reaching the VPN all fail. The LAN and local names keep working.',
      consequence: 'the internet became unreachable',
      evidence: [...(summary ? [summary.id] : targets.map((t) => t.id)), ...(hop ? [hop.id] : [])],
      fixes: [{
        title: 'Bring the internet connection back',
        steps: [
          `Open ${ctx.config.router.ip ? `the router's status page (http://${ctx.config.router.ip}/)` : "the router's status page"}: does it show an internet (WAN) address and a connected line?`,
          'Check the modem (or fibre box) lights; restart the modem, then the router, and give them two minutes.',
          'If it stays down, check the ISP\'s outage page or call them: the fault is on their side of the router.',
        ],
      }],
    }];
  },
};

/** The internet answers, but not to ping: the targets drop ICMP echo, so latency and loss go unmeasured. */
function pingBlind(ctx: RuleContext, pings: Observation[], answers: Observation[]): FindingDraft {
  const tried = pings.flatMap((o) => (o.check === 'summary' ? listOf(dataOf<WanSummaryData>(o).unreachable) : [o.labels.ip ?? o.subject]));
  const proof = answers.slice(0, 2).map((o) => o.summary);
  return {
    id: 'wan-ping-blind',
    labels: {},
    severity: 'warning',
    title: `The internet answers, but not to ping: ${tried.length ? listing(tried) : 'the wan.targets'} ${tried.length === 1 ? 'drops' : 'drop'} echo requests`,
    explanation:
      `None of the outside addresses in wan.targets answered ping, yet other checks reached the internet (${proof.join('; ')}). ` +
      'So the line works and the targets (or something on the way) drop ICMP echo: netdoctor cannot measure the internet\'s latency and loss, and would not see the line go down by ping.',
    impact: 'No latency or loss figures for the internet, and no early warning from ping when the line goes down.',
    evidence: [...pings.map((o) => o.id), ...answers.slice(0, 2).map((o) => o.id)],
    fixes: [{
      title: 'Pick internet targets that answer ping',
      steps: [
        'Set wan.targets in netdoctor.yaml to outside addresses that answer ping, such as 1.1.1.1 and 9.9.9.9 (check by hand: ping -c 3 1.1.1.1).',
        `If none answers ping from here, the router or the ISP drops ICMP: check the router's firewall settings ("respond to ping", "block ICMP").`,
      ],
    }],
  };
}

export const wanRules: Rule[] = [gateway, internet, cgnatRule];

export const wanEdges: ExplainEdge[] = [
  { cause: 'gateway-down', effect: 'wan-down', because: 'everything beyond the LAN goes through the router' },
  { cause: 'wan-down', effect: 'dns-upstream-failing', because: 'a local DNS server forwards outside names over the internet' },
  {
    cause: 'wan-down',
    effect: 'ddns-unknown',
    because: 'the public address and the DDNS record are both learned over the internet',
    // The record's unknown, not the probe-level one of a ddns probe left out of the run.
    when: (_c, e) => e.labels.hostname !== undefined,
  },
  { cause: 'wan-down', effect: 'vpn-unreachable', because: 'nothing reaches the VPN from outside while the line is down' },
  { cause: 'cgnat', effect: 'vpn-unreachable', because: 'behind carrier-grade NAT no connection from outside reaches the router' },
  {
    cause: 'cgnat',
    effect: 'ddns-stale',
    because: 'moving the line behind CGNAT changed the public address; publishing the shared address would not help',
    when: same('publicIp', 'actual'),
  },
];
