/**
 * The name outside: does the dynamic DNS name point at home's current public
 * address? ddclient's cache often says "good" while the record is stale, so
 * the record as the world resolves it is the truth; the cache only explains.
 */
import type { Observation } from '../../probes/types.js';
import { ddclientConfigFix, ddclientForceFix } from '../fixes.js';
import { dataOf, listOf, type DdclientData, type DdnsRecordData, type PublicIpData } from '../observed.js';
import { same, type ExplainEdge, type FindingDraft, type Rule } from '../rule.js';
import { listing } from '../words.js';

function ago(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} seconds ago`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} minutes ago`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} hours ago`;
  return `${Math.round(seconds / 86_400)} days ago`;
}

/** What ddclient believes, as one sentence, or nothing when its cache was not read. */
function ddclientBelief(cache: Observation | undefined, published: string[], actual: string | undefined): string {
  if (!cache || cache.status !== 'ok') return '';
  const d = dataOf<DdclientData>(cache);
  if (!d.ip) return '';
  const age = typeof cache.values.age_s === 'number' ? `, ${ago(cache.values.age_s)}` : '';
  const status = d.status ? ` (status ${d.status})` : '';
  if (d.ip === actual) {
    return ` ddclient's cache says it already sent ${d.ip}${status}${age}, yet the record did not change: the update was refused or went to another account or name.`;
  }
  if (published.includes(d.ip)) {
    return ` ddclient's cache says it last sent ${d.ip}${status}${age}: it has not noticed that the address changed, so it sees nothing to update.`;
  }
  return ` ddclient's cache says it last sent ${d.ip}${status}${age}.`;
}

const record: Rule = {
  id: 'ddns-record',
  family: 'ddns',
  question: 'whether the DDNS name points at the current public address',
  needs: ['ddns'],
  produces: ['ddns-stale', 'ddns-missing', 'ddns-unknown'],
  match(ctx) {
    const rec = ctx.first('ddns', 'record');
    const pub = ctx.first('ddns', 'public-ip');
    const cache = ctx.first('ddns', 'ddclient');
    const rd = dataOf<DdnsRecordData>(rec);
    const pd = dataOf<PublicIpData>(pub);
    const hostname = rec?.labels.hostname ?? rd.hostname ?? ctx.config.ddns.hostname ?? rec?.subject;
    if (!hostname) return [];
    const resolvers = listOf(rd.resolvers);
    const at = resolvers.length ? ` at ${listing(resolvers)}${rd.authoritative ? ' (its authoritative servers)' : ''}` : '';
    const forVpn = ctx.config.vpn.publicName === hostname;
    const source = pub?.labels.source ?? pd.source;
    const evidence = [rec, pub, cache].filter((o): o is Observation => o !== undefined && o.status !== 'skipped').map((o) => o.id);

    if (rec?.status === 'fail' && rec.reason === 'stale') {
      const published = listOf(rec.labels.published ?? rd.published);
      const actual = rec.labels.actual ?? rd.actual ?? pd.address;
      if (!actual) return [];
      return [{
        id: 'ddns-stale',
        labels: { hostname, published: published.join(','), actual },
        severity: 'warning',
        title: `DDNS name ${hostname} is stale: it points at ${listing(published) || 'an old address'}, your public address is ${actual}`,
        explanation:
          `Your public address is now ${actual}${source ? ` (as ${source} sees it)` : ''}, but ${hostname} still resolves to ${listing(published)}${at}. ` +
          `The ISP changed the address and the record was not updated; ddclient is what should have published it.` +
          ddclientBelief(cache, published, actual) +
          ` Anything that connects by name reaches ${listing(published)}, which is no longer yours.`,
        impact: forVpn
          ? `Outside servers that connect to ${hostname} reach an address that is no longer yours: the VPN is unreachable from outside until the record is fixed.`
          : `Whatever connects to ${hostname} from outside reaches an address that is no longer yours.`,
        consequence: `${hostname} still points at ${listing(published)}, no longer home's address`,
        evidence,
        fixes: [ddclientForceFix(ctx.config, hostname, actual), ddclientConfigFix(ctx.config)],
      }];
    }
    if (rec?.status === 'fail' && rec.reason === 'nxdomain') {
      return [{
        id: 'ddns-missing',
        labels: { hostname },
        severity: 'warning',
        title: `DDNS name ${hostname} does not exist (NXDOMAIN)`,
        explanation:
          `${hostname} does not resolve${at}: the name does not exist. The DDNS account may have expired (free services delete names that are not confirmed), or the name in netdoctor.yaml is misspelt.` +
          ddclientBelief(cache, [], pd.address),
        impact: forVpn ? `Outside servers cannot find home by name: the VPN is unreachable from outside.` : `Nothing outside can find home by ${hostname}.`,
        consequence: `${hostname} does not exist`,
        evidence,
        fixes: [
          {
            title: `Check the DDNS account that owns ${hostname}`,
            steps: [
              'Log in to the dynamic DNS provider: is the name still there, and the account active? Some free plans need confirming every 30 days.',
              'Compare the name with ddns.hostname in netdoctor.yaml and the one in /etc/ddclient.conf.',
            ],
          },
          ...(pd.address ? [ddclientForceFix(ctx.config, hostname, pd.address)] : []),
        ],
      }];
    }
    const recUnknown = rec?.status === 'error';
    const pubUnknown = pub !== undefined && (pub.status === 'error' || (pub.status === 'fail' && pub.reason === 'unavailable'));
    if (!recUnknown && !(pubUnknown && rec?.status !== 'ok')) return [];
    const tried = (pd.tried ?? []).map((t) => (t.error ? `${t.source}: ${t.error}` : t.source));
    const why = [
      ...(pubUnknown ? [`the public address could not be learned${tried.length ? ` (${tried.join('; ')})` : ''}`] : []),
      ...(recUnknown ? [`${hostname} could not be resolved${at} (${rec!.summary})`] : []),
    ];
    return [{
      id: 'ddns-unknown',
      labels: { hostname },
      severity: 'unknown',
      title: `Whether ${hostname} is current could not be checked: ${why[0]}`,
      explanation: `To judge the DDNS record netdoctor needs both the address ${hostname} points at and the address the internet sees; ${listing(why)}. That is not the same as current.`,
      impact: `Unknown whether outside servers reach home by ${hostname}.`,
      consequence: `whether ${hostname} is current could not be checked`,
      evidence,
      fixes: [{
        title: 'Check the sources by hand',
        steps: [
          ...(pubUnknown ? [`curl -s ${ctx.config.ddns.publicIp[0] ?? 'https://api.ipify.org'} should print the public address; if it fails too, the internet or that service is down (ddns.publicIp lists the sources, tried in order).`] : []),
          ...(recUnknown ? [`dig +short ${hostname}${resolvers[0] ? ` @${resolvers[0]}` : ''} should print an address.`] : []),
        ],
      }],
    } satisfies FindingDraft];
  },
};

export const ddnsRules: Rule[] = [record];

export const ddnsEdges: ExplainEdge[] = [
  { cause: 'ddns-stale', effect: 'vpn-unreachable', because: 'outside servers look the VPN up by this name and reach the old address', when: same('hostname', 'name') },
  { cause: 'ddns-missing', effect: 'vpn-unreachable', because: 'outside servers cannot look the VPN up by a name that does not exist', when: same('hostname', 'name') },
];
