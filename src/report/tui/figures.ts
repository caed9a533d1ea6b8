/**
 * The key figures of one probe row, from that probe's observations: what a
 * person glances at to see the network — DHCP servers and how fast they
 * answer, each Pi at its address / moved / missing, DNS answers and latency,
 * the VPN endpoints, the DDNS record, the internet. Pure; reads labels and
 * values first (the contract of docs/observations.md) and `data` only where
 * it adds something, so hand-written recordings show as well as live ones.
 */
import { dataOf, type DdnsRecordData, type DhcpSummaryData, type HostData, type PublicIpData, type SweepData } from '../../diagnose/observed.js';
import type { Observation, ProbeName } from '../../probes/types.js';
import { formatDuration } from '../../shared/duration.js';
import { headOf } from '../../shared/text.js';
import { seg, type Line, type Tone } from './lines.js';

export interface Figure {
  tone: Tone;
  line: Line;
}

export interface ProbeFigures {
  /** The row's overall tone: the worst of its figures. */
  tone: Tone;
  figures: Figure[];
}

export const PROBE_LABEL: Record<ProbeName, string> = {
  dhcp: 'DHCP',
  hosts: 'Hosts',
  wan: 'Internet',
  dns: 'DNS',
  vpn: 'VPN',
  ddns: 'DDNS',
  router: 'Router',
};

const TONE_RANK: Tone[] = ['critical', 'warning', 'unknown', 'ok', 'info', 'muted', 'accent', 'plain'];

export function worstTone(tones: readonly Tone[]): Tone {
  let best: Tone = 'muted';
  for (const t of tones) if (TONE_RANK.indexOf(t) < TONE_RANK.indexOf(best)) best = t;
  return best;
}

const fig = (tone: Tone, ...parts: Array<string | [string, Tone]>): Figure => ({
  tone,
  line: parts.map((p) => (typeof p === 'string' ? seg(p, tone === 'muted' ? 'muted' : undefined) : seg(p[0], p[1]))),
});

/** A time for a figure (`0.43ms`, `2.5ms`, `3.1s`); nothing when it was not measured. */
const latency = (n: number | undefined): string => (n === undefined || !Number.isFinite(n) ? '' : formatDuration(n, { fine: true }));


const SKIP_WORDS: Record<string, string> = {
  'not-selected': 'skipped (--only/--skip)',
  'other-vantage': 'does not run from this vantage',
  'not-configured': 'nothing configured to check',
};

export function probeFigures(probe: ProbeName, observations: readonly Observation[]): ProbeFigures {
  const mine = observations.filter((o) => o.probe === probe);
  const figures: Figure[] = [];
  for (const o of mine.filter((x) => x.check === 'probe')) {
    if (o.status === 'skipped') figures.push(fig('muted', SKIP_WORDS[o.reason] ?? `skipped: ${headOf(o.summary)}`));
    else if (o.status === 'error') figures.push(fig('unknown', o.reason === 'timeout' ? `did not finish in time${mine.length > 1 ? ' (partial results)' : ''}` : headOf(o.summary)));
    else figures.push(fig(o.status === 'fail' ? 'critical' : 'ok', headOf(o.summary)));
  }
  const rest = mine.filter((x) => x.check !== 'probe');
  figures.push(...FIGURES[probe](rest));
  return { tone: worstTone(figures.map((f) => f.tone)), figures };
}

const FIGURES: Record<ProbeName, (obs: Observation[]) => Figure[]> = {
  dhcp(obs) {
    const out: Figure[] = [];
    const offers = obs.filter((o) => o.check === 'offer');
    for (const o of offers) {
      const server = o.labels.server ?? o.subject;
      const when = latency(o.values.offer_ms);
      if (o.status === 'ok') out.push(fig('ok', `${server} answered${when ? ` in ${when}` : ''}`));
      else out.push(fig('critical', `${server} unexpected server${when ? `, ${when}` : ''}`));
    }
    const summary = obs.find((o) => o.check === 'summary');
    if (summary && summary.status === 'fail' && summary.reason === 'no-offer') {
      const window = dataOf<DhcpSummaryData>(summary).windowMs;
      out.push(fig('critical', `no server answered${window ? ` in ${formatDuration(window)}` : ''}`));
    } else if (summary && offers.length === 0) {
      out.push(fig(summary.status === 'ok' ? 'ok' : 'critical', headOf(summary.summary)));
    }
    return out;
  },

  hosts(obs) {
    const out: Figure[] = [];
    for (const o of obs.filter((x) => x.check === 'host')) {
      const name = o.labels.host ?? o.subject;
      const d = dataOf<HostData>(o);
      const actual = o.labels.actual ?? d.actualIp;
      const expected = o.labels.expected ?? d.expectedIp;
      const me = d.self === true ? ' (this machine)' : '';
      if (o.status === 'ok') out.push(fig('ok', `${name}${me} at ${expected ?? actual ?? '?'}`));
      else if (o.reason === 'moved') out.push(fig('critical', `${name}${me} moved → ${actual ?? 'elsewhere'}`));
      else if (o.reason === 'missing') out.push(fig('critical', `${name} missing`));
      else if (o.reason === 'conflict') out.push(fig('critical', `${name}'s ${expected ?? 'address'} taken${d.conflictSelf === true ? ' by this machine' : d.conflictMac ? ` by ${d.conflictMac}` : ''}`));
      else out.push(fig(o.status === 'error' ? 'unknown' : 'critical', `${name}: ${headOf(o.summary)}`));
    }
    for (const o of obs.filter((x) => x.check === 'sweep')) {
      if (o.status === 'ok') {
        const subnet = o.labels.subnet ?? dataOf<SweepData>(o).subnet ?? o.subject;
        out.push(fig('muted', `${o.values.alive ?? '?'} up on ${subnet}`));
      } else {
        out.push(fig('unknown', headOf(o.summary)));
      }
    }
    return out;
  },

  wan(obs) {
    const out: Figure[] = [];
    for (const o of obs.filter((x) => x.check === 'gateway')) {
      const ip = o.labels.ip ?? o.subject;
      out.push(o.status === 'ok' ? fig('ok', `gateway ${ip} ${latency(o.values.rtt_ms)}`.trim()) : fig('critical', `gateway ${ip} unreachable`));
    }
    const summary = obs.find((x) => x.check === 'summary');
    const targets = obs.filter((x) => x.check === 'target');
    const fastest = targets.filter((t) => t.status === 'ok' && t.values.rtt_ms !== undefined).sort((a, b) => a.values.rtt_ms - b.values.rtt_ms)[0];
    if (summary) {
      const n = `${summary.values.reachable ?? '?'}/${summary.values.targets ?? '?'}`;
      if (summary.status === 'ok') out.push(fig('ok', `internet up (${n}${fastest ? `, ${latency(fastest.values.rtt_ms)}` : ''})`));
      else out.push(fig('critical', `internet down (${n} targets answer)`));
    } else {
      for (const t of targets) out.push(t.status === 'ok' ? fig('ok', `${t.subject} ${latency(t.values.rtt_ms)}`) : fig('critical', `${t.subject} unreachable`));
    }
    return out;
  },

  dns(obs) {
    const out: Figure[] = [];
    const servers = obs.filter((x) => x.check === 'server');
    for (const o of servers) {
      const s = o.labels.server ?? o.subject;
      const answered = o.values.answered;
      const total = answered !== undefined && o.values.failed !== undefined ? answered + o.values.failed : undefined;
      const count = total !== undefined ? ` ${answered}/${total} answered` : '';
      switch (o.reason) {
        case 'healthy':
          out.push(fig('ok', `${s}${count}${o.values.latency_ms !== undefined ? `, ${latency(o.values.latency_ms)}` : ''}`));
          break;
        case 'unreachable':
          out.push(fig('critical', `${s} silent${total !== undefined ? ` (0/${total})` : ''}`));
          break;
        case 'refused':
          out.push(fig('critical', `${s} refuses queries`));
          break;
        case 'upstream-failing':
          out.push(fig('critical', `${s} local names only: upstream fails`));
          break;
        case 'failing':
          out.push(fig('critical', `${s} answers, resolves nothing`));
          break;
        case 'wrong-answers':
          out.push(fig('warning', `${s} wrong answers${count ? ` (${count.trim()})` : ''}`));
          break;
        default:
          out.push(fig(o.status === 'ok' ? 'ok' : o.status === 'error' ? 'unknown' : 'warning', `${s} ${o.reason}${count}`));
      }
    }
    if (servers.length === 0) {
      // Still running: count the answers so far.
      const queries = obs.filter((x) => x.check === 'query');
      if (queries.length > 0) {
        const ok = queries.filter((q) => q.status === 'ok').length;
        out.push(fig(ok === queries.length ? 'ok' : 'critical', `${ok}/${queries.length} queries answered`));
      }
    }
    return out;
  },

  vpn(obs) {
    const out: Figure[] = [];
    // The same endpoint is often checked as several targets (the host's address and the forward): one figure each.
    const groups = new Map<string, Observation[]>();
    for (const o of obs.filter((x) => x.check === 'handshake')) {
      const key = `${o.status}|${o.reason}|${o.subject}`;
      groups.set(key, [...(groups.get(key) ?? []), o]);
    }
    for (const group of groups.values()) {
      const o = group[0];
      const roles = [...new Set(group.map((g) => roleOf(g)))].join(', ');
      const where = `${o.labels.address ?? o.subject.split(':')[0]}:${o.labels.port ?? ''}`.replace(/:$/, '');
      const who = roles ? `${roles} ${where}` : where;
      if (o.status === 'ok') out.push(fig('ok', `${who} answered${o.values.rtt_ms !== undefined ? ` ${latency(o.values.rtt_ms)}` : ''}`));
      else if (o.reason === 'refused') out.push(fig('critical', `${who} refused`));
      else if (o.reason === 'host-unreachable') out.push(fig('critical', `${who} no host`));
      else if (o.reason === 'no-reply') out.push(fig('unknown', `${who} silent (tls-auth?)`));
      else out.push(fig(o.status === 'error' ? 'unknown' : 'critical', `${who} ${o.reason}`));
    }
    for (const o of obs.filter((x) => x.check === 'resolve' && x.status !== 'ok')) {
      out.push(fig('critical', `${o.subject} does not resolve (${o.reason})`));
    }
    return out;
  },

  ddns(obs) {
    const out: Figure[] = [];
    for (const o of obs.filter((x) => x.check === 'record')) {
      const d = dataOf<DdnsRecordData>(o);
      const published = o.labels.published ?? d.published?.join(', ');
      const actual = o.labels.actual ?? d.actual;
      if (o.status === 'ok') out.push(fig('ok', `${o.subject} = ${published ?? '?'}`));
      else if (o.reason === 'stale') out.push(fig('warning', `${o.subject} stale: ${published ?? '?'}, public ${actual ?? '?'}`));
      else out.push(fig(o.status === 'error' ? 'unknown' : 'critical', `${o.subject}: ${o.reason}`));
    }
    for (const o of obs.filter((x) => x.check === 'public-ip')) {
      const address = dataOf<PublicIpData>(o).address;
      out.push(o.status === 'ok' ? fig('muted', `public ${address ?? '?'}`) : o.status === 'skipped' ? fig('muted', 'public address not checked') : fig('unknown', 'public address unknown'));
    }
    for (const o of obs.filter((x) => x.check === 'cgnat' && x.status === 'fail')) out.push(fig('critical', 'carrier-grade NAT'));
    for (const o of obs.filter((x) => x.check === 'ddclient' && x.status !== 'skipped')) {
      if (o.status === 'ok') out.push(fig('muted', `ddclient ${o.values.age_s !== undefined ? `updated ${formatDuration(o.values.age_s * 1000)} ago` : 'cache read'}`));
      else out.push(fig('unknown', `ddclient: ${headOf(o.summary)}`));
    }
    return out;
  },

  router(obs) {
    const out: Figure[] = [];
    for (const o of obs.filter((x) => x.status !== 'skipped' || x.reason === 'not-offered')) {
      if (o.check === 'upnp' || o.check === 'nat-pmp') out.push(fig(o.status === 'ok' ? 'muted' : o.status === 'error' ? 'unknown' : 'muted', `${o.check === 'upnp' ? 'UPnP' : 'NAT-PMP/PCP'} ${o.status === 'ok' ? 'answers' : o.status === 'error' ? 'unknown' : 'off'}`));
      else if (o.check === 'wan-address' && o.status === 'ok') out.push(fig('muted', `WAN ${o.labels.address ?? 'withheld'}`));
      else if (o.check === 'connection') out.push(fig(o.status === 'ok' ? 'ok' : o.status === 'fail' ? 'critical' : 'unknown', headOf(o.summary).replace(/^the router says its /, '')));
    }
    return out;
  },
};

const ROLE_WORD: Record<string, string> = { forward: 'forward', public: 'public', 'nat-loopback': 'NAT loopback' };

function roleOf(o: Observation): string {
  const target = o.labels.target ?? '';
  if (target === 'expected') return o.labels.host ?? 'host';
  if (target === 'found') return `${o.labels.host ?? 'host'} (found)`;
  return ROLE_WORD[target] ?? target;
}
