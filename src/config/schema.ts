/**
 * The shape of `netdoctor.yaml`. Every key is optional: what is missing is
 * filled from the machine (see defaults.ts). Objects are strict so that a
 * typo is an error with a "did you mean", never a silently ignored key.
 *
 * Messages are written to follow `<path> "<value>"`, e.g.
 * `hosts[1].mac "b8:27:eb:00:10" is not a MAC address (…)`.
 */
import { z } from 'zod';
import { DURATION_HINT, parseDuration } from '../shared/duration.js';
import { isIPv4, isInterfaceName, isMac, normalizeMac, parseCidr } from '../shared/ipv4.js';
import { parseListen } from '../shared/listen.js';

const ipv4 = z.string().refine(isIPv4, {
  message: 'is not an IPv4 address (expected four numbers 0-255 like 192.168.1.10)',
});

const mac = z
  .string()
  .transform(normalizeMac)
  .refine(isMac, { message: 'is not a MAC address (expected six hex pairs like b8:27:eb:00:00:10)' });

const cidr = z.string().refine((s) => parseCidr(s) !== undefined, {
  message: 'is not a subnet (expected an address and prefix length like 192.168.1.0/24)',
});

/** RFC 1123 host names, with or without a trailing dot. */
const HOSTNAME = /^(?=.{1,253}\.?$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;
export function isHostname(text: string): boolean {
  return HOSTNAME.test(text);
}

const hostname = z.string().refine(isHostname, {
  message: 'is not a host name (expected letters, digits and hyphens separated by dots, like pi-vpn.home)',
});

/** Interface names as Linux allows them: at most 15 bytes, no slash or whitespace. */
const interfaceName = z.string().refine(isInterfaceName, {
  message: 'is not a network interface name (expected up to 15 characters like eth0 or wlan0, not starting with "-")',
});

const port = z
  .number()
  .int({ message: 'is not a whole number (expected a port 1-65535)' })
  .min(1, { message: 'is not a port (expected 1-65535)' })
  .max(65535, { message: 'is not a port (expected 1-65535)' });

/**
 * Durations are written as text (`2s`) or a bare number of seconds; kept as
 * milliseconds. Each has a floor: a zero deadline, window or refresh would
 * mean a check that cannot work or one that floods the LAN back to back.
 */
const duration = (minMs: number, floor: string) =>
  z
    .union([z.string(), z.number()])
    .refine((v) => parseDuration(v) !== undefined, { message: `is not a duration (expected ${DURATION_HINT})` })
    .transform((v) => parseDuration(v)!)
    .refine((ms) => ms >= minMs, { message: `is too short (expected at least ${floor})` });

const url = (schemes: string[], example: string) =>
  z.string().refine(
    (s) => {
      try {
        return schemes.includes(new URL(s).protocol.replace(/:$/, ''));
      } catch {
        return false;
      }
    },
    { message: `is not a ${schemes.join(' or ')} URL (expected something like ${example})` },
  );

export const HOST_ROLES = ['dns', 'vpn', 'dhcp', 'graphite', 'ddns', 'web', 'other'] as const;

const host = z.strictObject({
  name: z.string().refine((s) => /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(s), {
    message: 'is not a host name (expected letters, digits, "-", "_" or "." like pi-dns)',
  }),
  mac,
  ip: ipv4,
  roles: z.array(z.enum(HOST_ROLES)).optional(),
});

const forward = z.strictObject({
  proto: z.enum(['udp', 'tcp']).default('udp'),
  port,
  to: ipv4,
  /** Port on the inside host when it differs from the public one. */
  toPort: port.optional(),
});

const tlsAuth = z.strictObject({
  /** The `ta.key` file shared with the server (OpenVPN static key, version 1). */
  file: z.string().min(1, { message: 'is empty (expected the path of the tls-auth key file)' }),
  /** `key-direction` of the client: the server uses 0, so clients use 1. */
  direction: z.union([z.literal(0), z.literal(1)]).optional(),
  /** `auth` digest of the server; OpenVPN's default is SHA1. */
  digest: z.enum(['SHA1', 'SHA256', 'SHA384', 'SHA512']).default('SHA1'),
});

const secret = (what: string) => z.string().min(1, { message: `is empty (expected ${what})` });

/** `bearer` token or `basic` credentials for an HTTP channel; never printed (see notify/redact.ts). */
const httpAuth = {
  bearer: secret('the bearer token').optional(),
  basic: z.strictObject({ user: z.string().min(1, { message: 'is empty (expected a user name)' }), password: secret('the password') }).optional(),
};

/** An optional name for messages and `notify test`; default: the type and host. */
const channelName = z.string().refine((s) => /^[A-Za-z0-9_.-]{1,40}$/.test(s), {
  message: 'is not a channel name (expected letters, digits, "-", "_" or ".", like phone)',
}).optional();

const mailbox = z.string().refine((s) => /^[^\s@<>]+@[^\s@<>]+$/.test(s) || /^[^<>]*<[^\s@<>]+@[^\s@<>]+>$/.test(s), {
  message: 'is not an e-mail address (expected like netdoctor@home.example or "Net Doctor <nd@home.example>")',
});

/** The notification channels of `notify.channels`; `type` picks the shape. See docs/notify.md. */
export const NOTIFY_TYPES = ['webhook', 'ntfy', 'email', 'alertmanager'] as const;

const notifyChannel = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('webhook'),
    name: channelName,
    url: url(['http', 'https'], 'https://hooks.example/netdoctor'),
    ...httpAuth,
    /** Signs the body: `X-Netdoctor-Signature: sha256=<hex HMAC-SHA256>`. */
    hmacSecret: secret('the shared secret for the signature').optional(),
  }),
  z.strictObject({
    type: z.literal('ntfy'),
    name: channelName,
    url: url(['http', 'https'], 'https://ntfy.sh/my-netdoctor-topic').refine((s) => /^\/[^/]+\/?$/.test(new URL(s).pathname), {
      message: 'has no topic (expected the topic URL, like https://ntfy.sh/my-netdoctor-topic)',
    }),
    token: secret('the access token (tk_…)').optional(),
  }),
  z.strictObject({
    type: z.literal('email'),
    name: channelName,
    url: url(['smtp', 'smtps'], 'smtp://user:password@mail.example:587'),
    from: mailbox,
    to: z.union([mailbox, z.array(mailbox).min(1, { message: 'is empty (expected at least one address)' })]),
    /** A PEM file of the CA (or self-signed certificate) the SMTP server's certificate must chain to. */
    ca: z.string().min(1).optional(),
  }),
  z.strictObject({
    type: z.literal('alertmanager'),
    name: channelName,
    url: url(['http', 'https'], 'http://alertmanager.home:9093'),
    ...httpAuth,
  }),
]);

const keyFile = (what: string) =>
  z.strictObject({ file: z.string().min(1, { message: `is empty (expected the path of the ${what} file)` }) });

/** A WireGuard public key as `wg pubkey` prints it: 32 bytes in base64 (44 characters, ending in "="). */
const WIREGUARD_KEY = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

const wireguard = z.strictObject({
  /** netdoctor's own probe key (`wg genkey`), which the server lists as a [Peer]. */
  privateKeyFile: z.string().min(1, { message: 'is empty (expected the path of netdoctor\'s WireGuard private key file, made by wg genkey)' }),
  /** The server interface's public key (`wg show wg0 public-key`). */
  serverPublicKey: z.string().refine((s) => WIREGUARD_KEY.test(s.trim()), {
    message: 'is not a WireGuard public key (expected 44 characters of base64 ending in "=", as `sudo wg show wg0 public-key` prints)',
  }),
  /** The PresharedKey of netdoctor's [Peer] on the server, when it has one. */
  presharedKeyFile: z.string().min(1, { message: 'is empty (expected the path of the preshared key file, or leave the key out)' }).optional(),
});

export const VPN_KINDS = ['openvpn', 'wireguard'] as const;

export const configSchema = z.strictObject({
  /** Name of this network in reports and metric paths. */
  site: z.string().refine((s) => /^[A-Za-z0-9_-]{1,40}$/.test(s), {
    message: 'is not a site name (expected letters, digits, "-" or "_", like home)',
  }).optional(),
  interface: interfaceName.optional(),
  /** The LAN; default: the interface's address and prefix. Sweeps never leave it. */
  subnet: cidr.optional(),
  /** Upper bound for a whole run; probes run concurrently under it. */
  deadline: duration(1000, '1s').optional(),
  hosts: z.array(host).optional(),
  router: z
    .strictObject({
      ip: ipv4.optional(),
      /** The router's public (WAN) address, when known; used to spot CGNAT. */
      wanIp: ipv4.optional(),
      dnsServer: ipv4.optional(),
      forwards: z.array(forward).optional(),
      /** false: never ask the router over UPnP (SSDP discovery and SOAP); NAT-PMP/PCP is still asked. */
      upnp: z.boolean().optional(),
    })
    .optional(),
  dhcp: z
    .strictObject({
      servers: z.array(ipv4).optional(),
      window: duration(500, '500ms; a default dnsmasq needs about 4s').optional(),
    })
    .optional(),
  dns: z
    .strictObject({
      servers: z.array(ipv4).optional(),
      records: z.record(hostname, ipv4).optional(),
      external: z.array(hostname).optional(),
    })
    .optional(),
  wan: z
    .strictObject({
      targets: z.array(ipv4).optional(),
    })
    .optional(),
  ddns: z
    .strictObject({
      hostname: hostname.optional(),
      resolvers: z.array(ipv4).optional(),
      publicIp: z.array(url(['http', 'https', 'dns'], 'https://api.ipify.org')).optional(),
      ddclientCache: z.string().optional(),
      ddclientConf: z.string().optional(),
    })
    .optional(),
  vpn: z
    .strictObject({
      host: z.string().optional(),
      proto: z.enum(['udp', 'tcp']).optional(),
      port: port.optional(),
      publicName: hostname.optional(),
      /** openvpn (default) or wireguard (default when a wireguard: section is given). */
      kind: z.enum(VPN_KINDS).optional(),
      tlsAuth: tlsAuth.optional(),
      /** OpenVPN `tls-crypt`: the shared key file (`openvpn --genkey tls-crypt`). */
      tlsCrypt: keyFile('tls-crypt key').optional(),
      /** OpenVPN `tls-crypt-v2`: a client key file (`openvpn --genkey tls-crypt-v2-client`). */
      tlsCryptV2: keyFile('tls-crypt-v2 client key').optional(),
      wireguard: wireguard.optional(),
    })
    .optional(),
  graphite: z
    .strictObject({
      url: url(['tcp'], 'tcp://graphite.home:2003'),
      prefix: z.string().refine((s) => /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(s), {
        message: 'is not a metric prefix (expected dot-separated words like netdoctor.home)',
      }).optional(),
      /** Most metric lines kept while carbon is unreachable; the oldest go first. */
      spoolMax: z.number().int().min(0, { message: 'is negative (expected a count of metric lines, like 100000)' }).optional(),
    })
    .optional(),
  history: z
    .strictObject({
      path: z.string().optional(),
      keep: duration(3_600_000, '1h').optional(),
    })
    .optional(),
  notify: z
    .strictObject({
      /** At most one message per incident in this time while the network flaps. */
      minInterval: duration(0, '0s').optional(),
      channels: z.array(notifyChannel).optional(),
    })
    .optional(),
  prometheus: z
    .strictObject({
      /** node_exporter's textfile collector directory; netdoctor.prom is written there. */
      textfile: z.string().min(1, { message: 'is empty (expected a directory like /var/lib/prometheus/node-exporter)' }),
    })
    .optional(),
  serve: z
    .strictObject({
      /** `host:port` for /metrics and /healthz. */
      listen: z.string().refine(isListenAddress, { message: 'is not an address to listen on (expected host:port like 127.0.0.1:9469)' }).optional(),
      interval: duration(10_000, '10s').optional(),
    })
    .optional(),
  tui: z
    .strictObject({
      refresh: duration(5000, '5s, since each refresh runs every probe').optional(),
    })
    .optional(),
});

/** host:port to listen on, with a port 1-65535 and an IPv4 address, a host name, `[IPv6]` or nothing (every address). */
export function isListenAddress(text: string): boolean {
  const l = parseListen(text);
  return l !== undefined && l.port >= 1 && (l.host === undefined || text.startsWith('[') || isIPv4(l.host) || isHostname(l.host));
}

/** The file as written, after validation (durations in ms, MACs normalised). */
export type ConfigFile = z.infer<typeof configSchema>;
export type HostConfig = z.infer<typeof host>;
export type ForwardConfig = z.infer<typeof forward>;
export type TlsAuthConfig = z.infer<typeof tlsAuth>;
export type WireguardConfig = z.infer<typeof wireguard>;
export type VpnKind = (typeof VPN_KINDS)[number];
export type HostRole = (typeof HOST_ROLES)[number];
export type NotifyChannelConfig = z.infer<typeof notifyChannel>;
