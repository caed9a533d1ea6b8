/**
 * What a UPnP Internet Gateway Device tells without a password: its device
 * description (which WAN connection service, where its control URL is), then
 * three read-only SOAP actions on that service: GetExternalIPAddress,
 * GetStatusInfo and GetGenericPortMappingEntry (index 0, 1, … until the
 * router says 713 SpecifiedArrayIndexInvalid, at most MAX_MAPPINGS). Never
 * AddPortMapping, DeletePortMapping or anything else that changes the router.
 * XML is read by hand: the answers are small and flat, and only a few
 * elements matter (see docs/probes/router.md).
 */
import { isIPv4 } from '../../shared/ipv4.js';
import { httpGet, HttpGetError } from './http-get.js';

/** The only SOAP actions netdoctor ever sends: all of them read. */
export const READ_ONLY_ACTIONS = ['GetExternalIPAddress', 'GetStatusInfo', 'GetGenericPortMappingEntry'] as const;
export type IgdAction = (typeof READ_ONLY_ACTIONS)[number];
export const MAX_MAPPINGS = 64;
/** Description and SOAP answers longer than this are not a router's. */
export const MAX_XML_BYTES = 64 * 1024;
const MAX_SERVICES = 64;
const WAN_SERVICES = [
  'urn:schemas-upnp-org:service:WANIPConnection:2',
  'urn:schemas-upnp-org:service:WANIPConnection:1',
  'urn:schemas-upnp-org:service:WANPPPConnection:1',
];

export interface IgdService {
  serviceType: string;
  controlUrl: string;
}

export interface IgdDescription {
  friendlyName?: string;
  manufacturer?: string;
  modelName?: string;
  presentationUrl?: string;
  /** The WAN connection service whose actions are asked; undefined when the device has none. */
  wan?: IgdService;
  services: number;
}

export type SoapAnswer = { ok: true; values: Record<string, string> } | { ok: false; code?: number; description?: string };

export interface PortMapping {
  protocol: string;
  externalPort: number;
  internalClient: string;
  internalPort: number;
  enabled: boolean;
  description?: string;
  remoteHost?: string;
  leaseS?: number;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Text of an element, entities decoded and control characters dropped; only short plain values. */
function decode(text: string): string {
  return text
    .replace(/&(amp|lt|gt|quot|apos);/g, (_m, e: string) => ENTITIES[e])
    .replace(/[^\x20-\x7e]/g, '')
    .trim();
}

/** Every `<name>text</name>` (any namespace prefix) in `xml`, text only, at most `limit`. */
export function elementTexts(xml: string, name: string, limit = 1): string[] {
  const re = new RegExp(`<(?:[A-Za-z_][\\w.-]{0,30}:)?${name}(?:\\s[^<>]{0,300})?>([^<]{0,512})</`, 'g');
  const out: string[] = [];
  for (let m = re.exec(xml); m && out.length < limit; m = re.exec(xml)) out.push(decode(m[1]));
  return out;
}

function elementText(xml: string, name: string): string | undefined {
  return elementTexts(xml, name)[0];
}

/** The blocks between `<service>` and `</service>`, at most MAX_SERVICES, scanned without backtracking. */
function serviceBlocks(xml: string): string[] {
  const out: string[] = [];
  let from = 0;
  while (out.length < MAX_SERVICES) {
    const open = xml.indexOf('<service>', from);
    if (open < 0) break;
    const close = xml.indexOf('</service>', open);
    if (close < 0) break;
    out.push(xml.slice(open + 9, close));
    from = close + 10;
  }
  return out;
}

/** Resolves a URL from the description against its base; only http on the description's own host counts. */
export function sameHostUrl(ref: string, base: string): string | undefined {
  try {
    const b = new URL(base);
    const u = new URL(ref, b);
    return u.protocol === 'http:' && u.host === b.host && !u.username && !u.password ? u.toString() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads a device description: the names, and the WAN connection service with
 * its control URL made absolute (URLBase or the description's own URL).
 * Returns undefined for text that is not a UPnP device description.
 */
export function parseDescription(xml: string, location: string): IgdDescription | undefined {
  if (xml.length > MAX_XML_BYTES || !/<(?:[\w.-]{1,30}:)?root[\s>]/.test(xml) || !xml.includes('<device')) return undefined;
  const urlBase = elementText(xml, 'URLBase');
  const base = (urlBase && sameHostUrl(urlBase, location)) || location;
  const services: IgdService[] = [];
  for (const block of serviceBlocks(xml)) {
    const serviceType = elementText(block, 'serviceType');
    const control = elementText(block, 'controlURL');
    const controlUrl = control !== undefined && control !== '' ? sameHostUrl(control, base) : undefined;
    if (serviceType && controlUrl) services.push({ serviceType, controlUrl });
  }
  const wan = WAN_SERVICES.map((t) => services.find((s) => s.serviceType === t)).find((s) => s !== undefined);
  const pick = (name: string) => {
    const v = elementText(xml, name);
    return v ? { [name]: v.slice(0, 120) } : {};
  };
  const presentation = elementText(xml, 'presentationURL');
  const presentationUrl = presentation ? safeHttpUrl(presentation, base) : undefined;
  return {
    ...pick('friendlyName'),
    ...pick('manufacturer'),
    ...pick('modelName'),
    ...(presentationUrl ? { presentationUrl } : {}),
    ...(wan ? { wan } : {}),
    services: services.length,
  } as IgdDescription;
}

/** The router's own status page may live on another port of the same host, but only over http(s). */
function safeHttpUrl(ref: string, base: string): string | undefined {
  try {
    const u = new URL(ref, base);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname === new URL(base).hostname && !u.username && !u.password ? u.toString() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads a SOAP answer to `action`: the `<actionResponse>` values, or the UPnP
 * fault's errorCode and errorDescription. Undefined when it is neither.
 */
export function parseSoapAnswer(xml: string, action: string): SoapAnswer | undefined {
  if (xml.length > MAX_XML_BYTES || !/<(?:[\w.-]{1,30}:)?Envelope[\s>]/.test(xml)) return undefined;
  const open = new RegExp(`<(?:[A-Za-z_][\\w.-]{0,30}:)?${action}Response(?:\\s[^<>]{0,300})?>`).exec(xml);
  if (open) {
    const rest = xml.slice(open.index + open[0].length);
    const end = rest.search(new RegExp(`</(?:[A-Za-z_][\\w.-]{0,30}:)?${action}Response>`));
    const body = end >= 0 ? rest.slice(0, end) : rest;
    const values: Record<string, string> = {};
    const re = /<(?:[A-Za-z_][\w.-]{0,30}:)?(New[A-Za-z]{1,40})(?:\s[^<>]{0,300})?>([^<]{0,512})<\//g;
    for (let m = re.exec(body); m && Object.keys(values).length < 32; m = re.exec(body)) if (!(m[1] in values)) values[m[1]] = decode(m[2]);
    return { ok: true, values };
  }
  if (!/<(?:[\w.-]{1,30}:)?Fault[\s>]/.test(xml)) return undefined;
  const code = elementText(xml, 'errorCode');
  const description = elementText(xml, 'errorDescription');
  const n = code !== undefined && /^\d{1,4}$/.test(code) ? Number(code) : undefined;
  return { ok: false, ...(n !== undefined ? { code: n } : {}), ...(description ? { description: description.slice(0, 120) } : {}) };
}

function port(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= 65535 ? n : undefined;
}

/** One GetGenericPortMappingEntry answer as a mapping; undefined when a field that matters is missing or wrong. */
export function mappingFrom(values: Record<string, string>): PortMapping | undefined {
  const externalPort = port(values.NewExternalPort);
  const internalPort = port(values.NewInternalPort);
  const protocol = (values.NewProtocol ?? '').toUpperCase();
  const internalClient = values.NewInternalClient ?? '';
  if (externalPort === undefined || internalPort === undefined || !['TCP', 'UDP'].includes(protocol) || !isIPv4(internalClient)) return undefined;
  const lease = values.NewLeaseDuration !== undefined && /^\d{1,10}$/.test(values.NewLeaseDuration) ? Number(values.NewLeaseDuration) : undefined;
  return {
    protocol, externalPort, internalClient, internalPort,
    enabled: values.NewEnabled !== '0' && values.NewEnabled?.toLowerCase() !== 'false',
    ...(values.NewPortMappingDescription ? { description: values.NewPortMappingDescription.slice(0, 80) } : {}),
    ...(values.NewRemoteHost ? { remoteHost: values.NewRemoteHost.slice(0, 64) } : {}),
    ...(lease !== undefined ? { leaseS: lease } : {}),
  };
}

/** The envelope of one read-only action. */
export function soapEnvelope(serviceType: string, action: IgdAction, args: Record<string, string | number> = {}): string {
  const body = Object.entries(args).map(([k, v]) => `<${k}>${v}</${k}>`).join('');
  return '<?xml version="1.0"?>\r\n<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">' +
    `<s:Body><u:${action} xmlns:u="${serviceType}">${body}</u:${action}></s:Body></s:Envelope>\r\n`;
}

export interface IgdOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** Epoch ms after which no more mapping entries are asked. */
  deadline: number;
}

export async function fetchDescription(location: string, opts: IgdOptions): Promise<IgdDescription> {
  const res = await httpGet(location, { timeoutMs: opts.timeoutMs, signal: opts.signal, maxBytes: MAX_XML_BYTES, maxRedirects: 0 });
  const d = parseDescription(res.body, location);
  if (!d) throw new HttpGetError('network', `${location} is not a UPnP device description`);
  return d;
}

/** One read-only SOAP action; rejects with HttpGetError when the answer is not SOAP. */
export async function soapCall(service: IgdService, action: IgdAction, opts: IgdOptions, args: Record<string, string | number> = {}): Promise<SoapAnswer> {
  if (!READ_ONLY_ACTIONS.includes(action)) throw new Error(`${action} is not a read-only action`);
  const res = await httpGet(service.controlUrl, {
    timeoutMs: opts.timeoutMs, signal: opts.signal, maxBytes: MAX_XML_BYTES, errorBodies: true,
    post: { body: soapEnvelope(service.serviceType, action, args), headers: { 'content-type': 'text/xml; charset="utf-8"', soapaction: `"${service.serviceType}#${action}"` } },
  });
  const a = parseSoapAnswer(res.body, action);
  if (!a) throw new HttpGetError('http-status', `${action}: HTTP ${res.status} without a SOAP answer`);
  return a;
}

/** The mapping list, entry by entry until 713 (or any fault), MAX_MAPPINGS or the deadline. */
export async function listMappings(service: IgdService, opts: IgdOptions): Promise<{ mappings: PortMapping[]; complete: boolean; unreadable: number }> {
  const mappings: PortMapping[] = [];
  let unreadable = 0;
  for (let i = 0; i < MAX_MAPPINGS; i++) {
    if (Date.now() >= opts.deadline || opts.signal?.aborted) return { mappings, complete: false, unreadable };
    const a = await soapCall(service, 'GetGenericPortMappingEntry', opts, { NewPortMappingIndex: i });
    // 713 SpecifiedArrayIndexInvalid ends the list; any other fault leaves it unfinished.
    if (!a.ok) return { mappings, complete: a.code === 713 || /SpecifiedArrayIndexInvalid/i.test(a.description ?? ''), unreadable };
    const m = mappingFrom(a.values);
    if (m) mappings.push(m);
    else unreadable++;
  }
  return { mappings, complete: false, unreadable };
}
