// Where a webhook may connect. A webhook URL is typed by an admin but fetched by the
// server, from inside the network: without a check it reaches what only the server can
// (PostgreSQL's neighbours, the cloud metadata service, Flotilla's own loopback port).
// The check is on the address actually connected to: the name is resolved once, every
// address it resolves to is checked, and the connection goes to one of those addresses
// (a `lookup` hook for node:http), so a name that changes its answer between a check and
// the connection (DNS rebinding) gains nothing.
import dns from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { env } from '@/lib/env';

type Subnet = [address: string, prefix: number];

/** IPv4 ranges that FLOTILLA_WEBHOOKS_ALLOW_PRIVATE opens: the LAN and this machine. */
const PRIVATE_V4: Subnet[] = [
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
];
/** IPv4 ranges never reachable: link-local (the cloud metadata service lives at 169.254.169.254), "this network", documentation, multicast, reserved, broadcast. */
const NEVER_V4: Subnet[] = [
  ['0.0.0.0', 8],
  ['169.254.0.0', 16],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];
const PRIVATE_V6: Subnet[] = [
  ['::1', 128], // loopback
  ['fc00::', 7], // unique-local
];
const NEVER_V6: Subnet[] = [
  ['::', 96], // unspecified and the deprecated IPv4-compatible form (::127.0.0.1)
  ['64:ff9b:1::', 48], // local-use IPv4/IPv6 translation
  ['100::', 64], // discard
  ['2001::', 23], // IETF protocol assignments (Teredo included)
  ['2001:db8::', 32], // documentation
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
];

/** The IPv6 forms that carry an IPv4 address inside (NAT64 and 6to4) must not smuggle a private one. */
function embedded(v4: Subnet[]): Subnet[] {
  return v4.flatMap(([address, prefix]) => {
    const [a, b, c, d] = address.split('.').map(Number) as [number, number, number, number];
    const hi = ((a << 8) | b).toString(16);
    const lo = ((c << 8) | d).toString(16);
    return [
      [`64:ff9b::${hi}:${lo}`, 96 + prefix],
      [`2002:${hi}:${lo}::`, 16 + prefix],
    ] satisfies Subnet[];
  });
}

function blockList(v4: Subnet[], v6: Subnet[]): BlockList {
  const list = new BlockList();
  // IPv4 rules also match the IPv4-mapped IPv6 form (::ffff:127.0.0.1): BlockList maps them.
  for (const [address, prefix] of v4) list.addSubnet(address, prefix, 'ipv4');
  for (const [address, prefix] of [...v6, ...embedded(v4)]) list.addSubnet(address, prefix, 'ipv6');
  return list;
}

const privateList = blockList(PRIVATE_V4, PRIVATE_V6);
const neverList = blockList(NEVER_V4, NEVER_V6);

export type AddressKind = 'public' | 'private' | 'never';

/** What an IP address is to a webhook: public, private (loopback, LAN, unique-local) or never reachable. */
export function addressKind(address: string): AddressKind {
  const family = isIP(address);
  if (family === 0) return 'never';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  // Private first: ::1 lies inside the never-reachable ::/96.
  if (privateList.check(address, type)) return 'private';
  if (neverList.check(address, type)) return 'never';
  return 'public';
}

function allowPrivate(): boolean {
  return env().FLOTILLA_WEBHOOKS_ALLOW_PRIVATE ?? false;
}

/** Why a webhook may not connect to this address, or null when it may. */
export function addressProblem(address: string, allowPrivateAddresses = allowPrivate()): string | null {
  const kind = addressKind(address);
  if (kind === 'public' || (kind === 'private' && allowPrivateAddresses)) return null;
  return kind === 'private'
    ? `${address} is a private, loopback or unique-local address (set FLOTILLA_WEBHOOKS_ALLOW_PRIVATE=true to allow webhooks to the local network)`
    : `${address} is a link-local, multicast, reserved or unspecified address, which webhooks never reach`;
}

export class AddressRefused extends Error {
  readonly code = 'EADDRREFUSED';
  constructor(message: string) {
    super(message);
    this.name = 'AddressRefused';
  }
}

/** The host of a URL as node:net sees it: IPv6 literals without their brackets. */
export function urlHost(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/**
 * A `lookup` for node:http(s): resolves the name once and hands the socket only addresses
 * that passed the check. A name with any refused address is refused as a whole (a name
 * that answers both public and private addresses is how rebinding is done).
 */
export function guardedLookup(allowPrivateAddresses = allowPrivate()): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '');
      const refused = addresses.map((a) => addressProblem(a.address, allowPrivateAddresses)).find((p) => p !== null);
      if (refused) return callback(new AddressRefused(`${hostname}: ${refused}`), '');
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(new AddressRefused(`${hostname} has no address`), '');
      callback(null, first.address, first.family);
    });
  };
}

/**
 * The check at create time, for a clear 4xx: an IP literal, or a name that resolves now.
 * A name that does not resolve now is accepted (DNS may be down or not yet set up): the
 * check at send time is the one that holds.
 */
export async function webhookTargetProblem(value: string): Promise<string | null> {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'Not a URL';
  }
  const host = urlHost(url);
  if (isIP(host)) return addressProblem(host);
  const addresses = await dns.promises.lookup(host, { all: true }).catch(() => []);
  for (const { address } of addresses) {
    const problem = addressProblem(address);
    if (problem) return `${host}: ${problem}`;
  }
  return null;
}
