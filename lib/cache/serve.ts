// Serves the binary cache (/cache/nix-cache-info, /cache/<hash>.narinfo, /cache/nar/*)
// straight from server.ts, bypassing Next.js. Objects stream from the cache's storage
// (a directory or a bucket, storage.ts) with ETag, Range and conditional GET. The
// access check comes first, whatever the storage. Who may read what:
// - an agent's host credential: only paths in closures built for, or deployed to, its host;
// - an API token with `cache.read` (operators, admins): everything of its organisation;
// - anyone else: 401, or 403 for a known caller asking for a path it may not read.
// Nix sends netrc credentials as HTTP Basic, so the secret may come as the Basic
// password (the login is ignored) or as a Bearer token.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { and, eq, exists, or, sql } from 'drizzle-orm';
import { hostFromCredential } from '@/lib/agents/credentials';
import { callerFromApiToken } from '@/lib/auth/api-tokens';
import { parseAuthorization } from '@/lib/auth/authorization';
import { clientAddressOf } from '@/lib/auth/limiter/client-address';
import { authLimiter } from '@/lib/auth/limiter/limits';
import { db } from '@/lib/db/client';
import { buildPaths, builds, cacheObjects, deploymentTargets } from '@/lib/db/schema';
import type { ServeHeaders } from './backend';
import { cacheBackend } from './storage';

type Reader = { orgId: string; hostId: string | null };

const NIX_CACHE_INFO = 'StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 30\n';

/** Nix sends netrc credentials as HTTP Basic: the secret is the password, the login is ignored. */
function presentedSecret(req: IncomingMessage): string | null {
  const credentials = parseAuthorization(req.headers.authorization);
  if (credentials?.scheme === 'bearer') return credentials.secret;
  if (credentials?.scheme === 'basic') return credentials.password || null;
  return null;
}

async function reader(secret: string): Promise<Reader | 'forbidden' | null> {
  if (secret.startsWith('hst_')) {
    const host = await hostFromCredential(secret);
    return host ? { orgId: host.orgId, hostId: host.id } : null;
  }
  try {
    const caller = await callerFromApiToken(secret);
    return caller.permissions.has('cache.read') ? { orgId: caller.org.id, hostId: null } : 'forbidden';
  } catch {
    return null;
  }
}

/** May this host fetch this store path? Yes if it is in a closure built for it or deployed to it. */
async function hostMayRead(hostId: string, storeHash: string): Promise<boolean> {
  const [row] = await db()
    .select({ one: sql<number>`1` })
    .from(buildPaths)
    .innerJoin(builds, eq(builds.id, buildPaths.buildId))
    .where(
      and(
        eq(buildPaths.storeHash, storeHash),
        or(
          eq(builds.hostId, hostId),
          exists(
            db()
              .select({ one: sql`1` })
              .from(deploymentTargets)
              .where(and(eq(deploymentTargets.hostId, hostId), eq(deploymentTargets.storePath, builds.storePath))),
          ),
        ),
      ),
    )
    .limit(1);
  return Boolean(row);
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

export async function handleCacheRequest(req: IncomingMessage, res: ServerResponse, pathname: string) {
  if (req.method !== 'GET' && req.method !== 'HEAD') return answer(res, 405, 'the cache is read-only over HTTP', { allow: 'GET, HEAD' });
  const secret = presentedSecret(req);
  const who = secret ? await reader(secret) : null;
  if (who === null) {
    // A valid secret is never refused for its address's past; a wrong one counts, and past the limit gets 429.
    const limited = secret ? await authLimiter().secretFailed(clientAddressOf(req), 'the binary cache') : null;
    if (limited) return answer(res, 429, 'too many failed authentications from your address', { 'retry-after': String(limited.retryAfterSeconds) });
    return answer(res, 401, 'send a host credential or an API token with cache.read', { 'www-authenticate': 'Basic realm="flotilla-cache"' });
  }
  if (who === 'forbidden') return answer(res, 403, 'this token lacks the cache.read scope');

  if (pathname === '/cache/nix-cache-info') {
    res.writeHead(200, { 'content-type': 'text/x-nix-cache-info', 'cache-control': 'no-store' });
    return res.end(req.method === 'HEAD' ? undefined : NIX_CACHE_INFO);
  }
  const narinfo = NARINFO.exec(pathname);
  if (narinfo) {
    const storeHash = narinfo[1] as string;
    if (who.hostId && !(await hostMayRead(who.hostId, storeHash))) return answer(res, 403, 'this path is not part of a closure for this host');
    return streamObject(req, res, who.orgId, `${storeHash}.narinfo`, 'text/x-nix-narinfo');
  }
  const nar = NAR.exec(pathname);
  if (nar) {
    const narUrl = nar[1] as string;
    if (who.hostId) {
      const [object] = await db()
        .select({ storeHash: cacheObjects.storeHash })
        .from(cacheObjects)
        .where(and(eq(cacheObjects.orgId, who.orgId), eq(cacheObjects.narUrl, narUrl)));
      if (!object || !(await hostMayRead(who.hostId, object.storeHash))) return answer(res, 403, 'this file is not part of a closure for this host');
    }
    return streamObject(req, res, who.orgId, narUrl, 'application/x-nix-nar');
  }
  return answer(res, 404, 'not a binary cache path');
}

