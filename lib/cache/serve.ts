// Serves the binary cache (/cache/nix-cache-info, /cache/<hash>.narinfo, /cache/nar/*)
// straight from server.ts, bypassing Next.js, and takes pushes into it (PUT, upload.ts).
// Objects stream from the cache's storage (a directory or a bucket, storage.ts) with
// ETag, Range and conditional GET. The access check comes first, whatever the storage.
// Who may do what:
// - an agent's host credential: read only paths in closures built for, or deployed to, its host;
// - an API token with `cache.read` (operators, admins): read everything of its organisation;
// - an API token with `cache.write` (operators, admins, CI tokens that ask): push, and
//   read (Nix asks what the cache has before it uploads). Tag limits do not apply here:
//   the cache is the organisation's, not a host's;
// - anyone else: 401, or 403 for a known caller asking for what it may not do.
// Nix sends netrc credentials as HTTP Basic, so the secret may come as the Basic
// password (the login is ignored) or as a Bearer token.
// A host's credential and the paths it may read are answered from memory (access.ts:
// grants only, dropped on the credential's NOTIFY); refusals and API tokens ask the database.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError } from '@/lib/api/errors';
import { callerFromApiToken } from '@/lib/auth/api-tokens';
import { parseAuthorization } from '@/lib/auth/authorization';
import { clientAddressOf } from '@/lib/auth/limiter/client-address';
import { authLimiter } from '@/lib/auth/limiter/limits';
import { isDatabaseUnavailable } from '@/lib/db/errors';
import { cacheHostFromCredential, connectionCacheHost, hostMayRead, hostMayReadNar, rememberedCacheHost, rememberedGrant } from './access';
import type { ServeHeaders } from './backend';
import { cacheBackend } from './storage';
import { receiveNar, receiveNarinfo, UploadRefused } from './upload';

type Reader = { orgId: string; hostId: string | null; write: boolean; tokenId: string | null };

const NIX_CACHE_INFO = 'StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 30\n';

/** Nix sends netrc credentials as HTTP Basic: the secret is the password, the login is ignored. */
function presentedSecret(req: IncomingMessage): string | null {
  const credentials = parseAuthorization(req.headers.authorization);
  if (credentials?.scheme === 'bearer') return credentials.secret;
  if (credentials?.scheme === 'basic') return credentials.password || null;
  return null;
}

const hostReader = (host: { id: string; orgId: string }): Reader => ({ orgId: host.orgId, hostId: host.id, write: false, tokenId: null });

/** A host this process remembers (access.ts): no await, no database. */
function rememberedReader(req: IncomingMessage, secret: string): Reader | undefined {
  if (!secret.startsWith('hst_')) return undefined;
  const authorization = req.headers.authorization as string;
  const host = rememberedCacheHost(secret, { socket: req.socket, authorization });
  return host && hostReader(host);
}

async function reader(secret: string): Promise<Reader | 'forbidden' | null> {
  if (secret.startsWith('hst_')) {
    // From memory when this process has seen the credential lately (access.ts says why that is safe).
    const host = await cacheHostFromCredential(secret);
    return host ? hostReader(host) : null;
  }
  try {
    const caller = await callerFromApiToken(secret);
    const write = caller.permissions.has('cache.write');
    return write || caller.permissions.has('cache.read') ? { orgId: caller.org.id, hostId: null, write, tokenId: caller.token?.id ?? null } : 'forbidden';
  } catch (error) {
    // An unknown, revoked or expired token; anything else (the database away) is not the caller's fault.
    if (error instanceof AppError) return null;
    throw error;
  }
}

function answer(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(`${message}\n`);
}

async function streamObject(req: IncomingMessage, res: ServerResponse, orgId: string, key: string, contentType: string) {
  // Content-addressed, but access depends on who asks: private caching only.
  const headers: ServeHeaders = { 'content-type': contentType, 'cache-control': 'private, max-age=3600' };
  try {
    if ((await cacheBackend().serve(req, res, orgId, key, headers)) === 'missing') answer(res, 404, 'not in this cache');
  } catch (error) {
    console.error(`[cache] cannot read ${key}:`, error instanceof Error ? error.message : error);
    if (!res.headersSent) answer(res, 500, 'cannot read the cache');
    else res.destroy();
  }
}

const NARINFO = /^\/cache\/([0-9a-df-np-sv-z]{32})\.narinfo$/;
const NAR = /^\/cache\/(nar\/[0-9a-z]+\.nar(?:\.(?:xz|bz2|zst|br|gz))?)$/;

/** PUT of a NAR file or a narinfo by a token with cache.write (upload.ts checks the contents). */
async function handlePush(req: IncomingMessage, res: ServerResponse, pathname: string, who: Reader) {
  if (!who.write) return answer(res, 403, who.hostId ? 'hosts cannot push to the cache' : 'this token lacks the cache.write scope');
  try {
    const narinfo = NARINFO.exec(pathname);
    if (narinfo) {
      const outcome = await receiveNarinfo(req, { orgId: who.orgId, tokenId: who.tokenId }, narinfo[1] as string);
      return answer(res, outcome === 'published' ? 201 : 200, outcome === 'published' ? 'published' : 'already in the cache');
    }
    const nar = NAR.exec(pathname);
    if (nar) {
      const outcome = await receiveNar(req, who.orgId, nar[1] as string);
      return answer(res, outcome === 'stored' ? 201 : 200, outcome === 'stored' ? 'stored; publish it with its narinfo' : 'already in the cache');
    }
    if (pathname === '/cache/nix-cache-info') return answer(res, 405, 'this cache writes its own nix-cache-info', { allow: 'GET, HEAD' });
    return answer(res, 404, 'only nar/<file> and <hash>.narinfo can be pushed');
  } catch (error) {
    if (error instanceof UploadRefused) {
      // The client may still be sending: answer, then drop what is left of the body.
      res.setHeader('connection', 'close');
      return answer(res, error.status, error.message);
    }
    throw error;
  }
}

/** Every cache request; a database out of reach is a 503 to retry (as in the API), not a server fault. */
export async function handleCacheRequest(req: IncomingMessage, res: ServerResponse, pathname: string) {
  try {
    await serveCacheRequest(req, res, pathname);
  } catch (error) {
    if (!isDatabaseUnavailable(error) || res.headersSent) throw error;
    res.setHeader('connection', 'close');
    answer(res, 503, 'the database is unavailable; retry shortly', { 'retry-after': '5' });
  }
}

async function serveCacheRequest(req: IncomingMessage, res: ServerResponse, pathname: string) {
  if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'PUT') return answer(res, 405, 'the cache takes GET, HEAD and PUT', { allow: 'GET, HEAD, PUT' });
  // The same header on a kept-alive connection as its last request: the host found then, if it still stands.
  const known = req.headers.authorization ? connectionCacheHost(req.socket, req.headers.authorization) : undefined;
  const secret = known ? null : presentedSecret(req);
  const who = known ? hostReader(known) : secret ? (rememberedReader(req, secret) ?? (await reader(secret))) : null;
  if (who === null) {
    // A valid secret is never refused for its address's past; a wrong one counts, and past the limit gets 429.
    const limited = secret ? await authLimiter().secretFailed(clientAddressOf(req), 'the binary cache') : null;
    if (limited) return answer(res, 429, 'too many failed authentications from your address', { 'retry-after': String(limited.retryAfterSeconds) });
    return answer(res, 401, 'send a host credential or an API token with cache.read (cache.write to push)', { 'www-authenticate': 'Basic realm="flotilla-cache"' });
  }
  if (who === 'forbidden') return answer(res, 403, 'this token lacks the cache.read and cache.write scopes');
  if (req.method === 'PUT') return handlePush(req, res, pathname, who);

  if (pathname === '/cache/nix-cache-info') {
    res.writeHead(200, { 'content-type': 'text/x-nix-cache-info', 'cache-control': 'no-store' });
    return res.end(req.method === 'HEAD' ? undefined : NIX_CACHE_INFO);
  }
  const narinfo = NARINFO.exec(pathname);
  if (narinfo) {
    const storeHash = narinfo[1] as string;
    const host = who.hostId ? { id: who.hostId, orgId: who.orgId } : null;
    if (host && !rememberedGrant(host, storeHash) && !(await hostMayRead(host, storeHash))) return answer(res, 403, 'this path is not part of a closure for this host');
    return streamObject(req, res, who.orgId, `${storeHash}.narinfo`, 'text/x-nix-narinfo');
  }
  const nar = NAR.exec(pathname);
  if (nar) {
    const narUrl = nar[1] as string;
    if (who.hostId && !(await hostMayReadNar({ id: who.hostId, orgId: who.orgId }, narUrl))) return answer(res, 403, 'this file is not part of a closure for this host');
    return streamObject(req, res, who.orgId, narUrl, 'application/x-nix-nar');
  }
  return answer(res, 404, 'not a binary cache path');
}

