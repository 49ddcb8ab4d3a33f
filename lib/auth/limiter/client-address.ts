// Who is on the other end of a request: the socket's peer, or, when that peer is one
// of FLOTILLA_TRUSTED_PROXIES, the right-most hop of X-Forwarded-For that is not a
// trusted proxy. Headers a client writes itself (X-Forwarded-For from an untrusted
// peer, X-Real-IP, our own internal header) change nothing.
//
// Next.js route handlers never see the socket, so server.ts resolves the address once
// per request and hands it over in CLIENT_ADDRESS_HEADER, after deleting any copy the
// client sent. The cache and the agent gateway run in server.ts and read the socket.
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { env, type TEnv } from '@/lib/env';

/** Set by server.ts on every request it passes to Next.js; never believed from anywhere else. */
export const CLIENT_ADDRESS_HEADER = 'x-flotilla-client-address';

/** The address used when none is known (a request that did not come through server.ts). */
export const UNKNOWN_ADDRESS = 'unknown';

/** A valid IP address in one spelling per address (IPv4-mapped IPv6 as IPv4, IPv6 lower case), or null. */
export function normalizeAddress(raw: string | undefined | null): string | null {
  if (!raw) return null;
  let address = raw.trim();
  // Some proxies write a port ("203.0.113.5:4711", "[2001:db8::1]:4711").
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed) address = bracketed[1] as string;
  else if (/^[\d.]+:\d+$/.test(address)) address = address.slice(0, address.lastIndexOf(':'));
  address = address.replace(/%.*$/, ''); // a link-local zone ("fe80::1%eth0") names our interface, not the client
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) address = mapped[1] as string;
  const family = isIP(address);
  if (family === 4) return address;
  if (family === 6) return new URL(`http://[${address}]`).hostname.slice(1, -1);
  return null;
}

let trustedFor: TEnv | undefined;
let trusted: BlockList | null = null;

/** The trusted proxies of the current environment (rebuilt when the environment is re-read). */
function trustedProxies(): BlockList | null {
  const current = env();
  if (trustedFor === current) return trusted;
  trustedFor = current;
  trusted = null;
  for (const entry of current.FLOTILLA_TRUSTED_PROXIES ?? []) {
    const [address = '', prefix] = entry.split('/');
    const family = isIP(address) === 4 ? 'ipv4' : 'ipv6';
    trusted ??= new BlockList();
    if (prefix === undefined) trusted.addAddress(address, family);
    else trusted.addSubnet(address, Number(prefix), family);
  }
  return trusted;
}

function isTrusted(list: BlockList, address: string) {
  return list.check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6');
}

/**
 * The client's address from the socket's peer and the X-Forwarded-For it sent. Hops are
 * read right to left (each trusted proxy appends the peer it saw); the first hop that is
 * not a trusted proxy is the client. A malformed hop ends the walk at the last trusted one.
 */
export function resolveClientAddress(peer: string | undefined, forwardedFor: string | string[] | null | undefined, proxies = trustedProxies()): string {
  const socketAddress = normalizeAddress(peer);
  if (!socketAddress) return UNKNOWN_ADDRESS;
  if (!proxies || !isTrusted(proxies, socketAddress)) return socketAddress;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : (forwardedFor ?? '')).split(',').filter((hop) => hop.trim());
  let client = socketAddress;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalizeAddress(hops[i]);
    if (!hop) break;
    client = hop;
    if (!isTrusted(proxies, hop)) break;
  }
  return client;
}

/** The client address of a request on a Node socket (server.ts, the cache, the agent gateway). */
export function clientAddressOf(req: IncomingMessage): string {
  return resolveClientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for']);
}

/** server.ts, before Next.js sees the request: the only writer of CLIENT_ADDRESS_HEADER. */
export function markClientAddress(req: IncomingMessage): string {
  const address = clientAddressOf(req);
  // Node keeps both the parsed headers and the raw list; Next.js reads the parsed ones.
  delete req.headers[CLIENT_ADDRESS_HEADER];
  req.headers[CLIENT_ADDRESS_HEADER] = address;
  return address;
}

/** The client address server.ts resolved for a request that reached a route handler. */
export function requestClientAddress(headers: Pick<Headers, 'get'>): string {
  return normalizeAddress(headers.get(CLIENT_ADDRESS_HEADER)) ?? UNKNOWN_ADDRESS;
}

/**
 * The key a limit counts under: the address, but a whole /64 for IPv6, since one
 * subscriber usually holds a /64 and could otherwise rotate through it.
 */
export function addressKey(address: string): string {
  if (isIP(address) !== 6) return address;
  const [head = '', tail] = address.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  return `${groups.slice(0, 4).join(':')}::/64`;
}
