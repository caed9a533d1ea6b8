/**
 * `diagnose(observations, config) → Diagnosis`: pure and synchronous. The
 * rules and explanation edges of every family, in the order things break in.
 */
import type { Config } from '../config/resolve.js';
import type { Observation } from '../probes/types.js';
import { diagnoseWith } from './engine.js';
import type { ExplainEdge, Rule } from './rule.js';
import { addressingEdges, addressingRules } from './rules/addressing.js';
import { ddnsEdges, ddnsRules } from './rules/ddns.js';
import { dhcpEdges, dhcpRules } from './rules/dhcp.js';
import { reservationsEdges, reservationsRules } from './rules/reservations.js';
import { dnsEdges, dnsRules } from './rules/dns.js';
import { vpnEdges, vpnRules } from './rules/vpn.js';
import { routerEdges, routerRules } from './rules/router.js';
import { wanEdges, wanRules } from './rules/wan.js';
import type { Diagnosis } from './types.js';

export const RULES: readonly Rule[] = [...dhcpRules, ...reservationsRules, ...addressingRules, ...wanRules, ...dnsRules, ...ddnsRules, ...vpnRules, ...routerRules];
export const EDGES: readonly ExplainEdge[] = [...dhcpEdges, ...reservationsEdges, ...addressingEdges, ...wanEdges, ...dnsEdges, ...ddnsEdges, ...vpnEdges, ...routerEdges];

export function diagnose(observations: readonly Observation[], config: Config): Diagnosis {
  return diagnoseWith(RULES, EDGES, observations, config);
}

export { diagnoseWith, findingKey, statusOf, SEVERITY_ORDER } from './engine.js';
export type { Diagnosis, Finding, Fix, Severity, FindingId } from './types.js';
