#!/usr/bin/env node
// Runs ONE VPN handshake from the built dist/ and prints its result as JSON.
// Tests start it inside a namespace: ip netns exec <ns> node test/support/vpn-handshake.mjs < request.json
// request: { kind: "openvpn", address, port, proto?, tlsCryptFile?, tlsCryptV2File?, timeoutMs? }
//        | { kind: "wireguard", address, port, privateKeyFile?, serverPublicKey?, presharedKeyFile?, timeoutMs? }
// Key files are read here and never printed.
import { readFileSync } from 'node:fs';

const dist = (p) => new URL(`../../dist/probes/net/${p}`, import.meta.url);
const req = JSON.parse(readFileSync(0, 'utf8'));
const timeoutMs = req.timeoutMs ?? 3000;
let result;
if (req.kind === 'wireguard') {
  const wg = await import(dist('wireguard.js'));
  const server = req.serverPublicKey ? wg.parseKey(req.serverPublicKey, 'serverPublicKey') : undefined;
  const peer = req.privateKeyFile
    ? wg.wireguardPeer(wg.parseKey(readFileSync(req.privateKeyFile, 'utf8'), 'privateKeyFile'), server,
      req.presharedKeyFile ? wg.parseKey(readFileSync(req.presharedKeyFile, 'utf8'), 'presharedKeyFile') : undefined)
    : wg.anonymousPeer(server);
  result = await wg.wireguardHandshake({ address: req.address, port: req.port, peer, timeoutMs });
} else {
  const ovpn = await import(dist('openvpn.js'));
  const tc = await import(dist('openvpn-tls-crypt.js'));
  let wrap;
  if (req.tlsCryptFile) wrap = tc.tlsCryptWrap(tc.tlsCryptKeysFromFile(readFileSync(req.tlsCryptFile, 'utf8')));
  if (req.tlsCryptV2File) {
    const k = tc.parseTlsCryptV2ClientKey(readFileSync(req.tlsCryptV2File, 'utf8'));
    wrap = tc.tlsCryptWrap(tc.tlsCryptKeys(k.key), k.wkc);
  }
  result = await ovpn.openvpnHandshake({ address: req.address, port: req.port, proto: req.proto ?? 'udp', wrap, timeoutMs });
}
process.stdout.write(`${JSON.stringify(result)}\n`);
