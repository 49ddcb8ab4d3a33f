// Resolves the caller of an HTTP request: an API token (Bearer), an e-mail and
// password (HTTP Basic, only where a route allows it, for `flotilla login`), or the
// browser's next-auth session cookie. A valid secret is always accepted; failures are
// counted per client address (lib/auth/limiter), and past the limit they get 429.
import { getToken } from 'next-auth/jwt';
import type { NextRequest } from 'next/server';
import { AppError } from '@/lib/api/errors';
import { callerFromApiToken } from './api-tokens';
import { parseAuthorization } from './authorization';
import type { Caller } from './caller';
import { callerForUser, ORG_COOKIE } from './membership';
import { requestClientAddress, UNKNOWN_ADDRESS } from './limiter/client-address';
import { authLimiter, rateLimited } from './limiter/limits';
import { checkPassword } from './next-auth';

/**
 * The client's address as server.ts resolved it from the socket (and trusted proxies);
 * X-Forwarded-For and X-Real-IP sent by the client are never read here.
 */
export function clientIp(req: Request): string | undefined {
  const address = requestClientAddress(req.headers);
  return address === UNKNOWN_ADDRESS ? undefined : address;
}

/** A wrong secret from `address`: the 401 itself, or a 429 once the address is past its limit. */
export async function refuseSecret(error: AppError, address: string | undefined, what: string): Promise<AppError> {
  const limited = await authLimiter().secretFailed(address ?? UNKNOWN_ADDRESS, what);
  return limited ? rateLimited('Too many failed authentication attempts from your address; try again later', limited) : error;
}

export async function requestCaller(req: NextRequest, opts: { allowBasic?: boolean } = {}): Promise<Caller | null> {
  const ip = clientIp(req);
  const credentials = parseAuthorization(req.headers.get('authorization'));
  if (credentials) {
    // Passwords have limits of their own (checkPassword); a wrong scheme guesses nothing.
    if (credentials.scheme === 'basic' && opts.allowBasic) return callerFromBasic(credentials.user, credentials.password, req, ip);
    if (credentials.scheme !== 'bearer') {
      throw new AppError('unauthorized', opts.allowBasic ? 'Use a Bearer API token or HTTP Basic e-mail:password' : 'Use a Bearer API token');
    }
    try {
      return await callerFromApiToken(credentials.secret, ip);
    } catch (error) {
      throw error instanceof AppError && error.code === 'unauthorized' ? await refuseSecret(error, ip, 'an API token') : error;
    }
  }
  const jwt = await getToken({ req, secret: process.env.AUTH_SECRET });
  if (!jwt?.uid) return null;
  const caller = await callerForUser(jwt.uid, {
    epoch: jwt.epoch,
    orgHint: req.headers.get('x-flotilla-org') ?? req.cookies.get(ORG_COOKIE)?.value,
    ip,
  });
  if (caller && !['GET', 'HEAD', 'OPTIONS'].includes(req.method)) assertSameOrigin(req);
  return caller;
}

async function callerFromBasic(user: string, password: string, req: NextRequest, ip?: string): Promise<Caller> {
  const result = await checkPassword(user.trim().toLowerCase(), password, ip ?? UNKNOWN_ADDRESS);
  if (!result.ok) {
    throw result.limited
      ? rateLimited('Too many failed sign-in attempts; wait before trying again', result.limited)
      : new AppError('unauthorized', 'Wrong e-mail or password');
  }
  const caller = await callerForUser(result.user.id, { orgHint: req.headers.get('x-flotilla-org') ?? undefined, ip, via: 'password' });
  if (!caller) throw new AppError('unauthorized', 'This account belongs to no organisation');
  return caller;
}

/** Cookie-authenticated writes must come from our own pages (defence in depth over SameSite=Lax). */
function assertSameOrigin(req: NextRequest) {
  const origin = req.headers.get('origin');
  if (!origin) return;
  const host = req.headers.get('x-forwarded-host') ?? req.headers.get('host');
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    throw new AppError('forbidden', 'Malformed Origin header');
  }
  if (originHost !== host) throw new AppError('forbidden', 'Cross-origin request refused');
}
