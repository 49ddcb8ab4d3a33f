// Resolves the caller of an HTTP request: an API token (Bearer), an e-mail and
// password (HTTP Basic, only where a route allows it, for `flotilla login`), or the
// browser's next-auth session cookie.
import { getToken } from 'next-auth/jwt';
import type { NextRequest } from 'next/server';
import { AppError } from '@/lib/api/errors';
import { callerFromApiToken } from './api-tokens';
import { parseAuthorization } from './authorization';
import type { Caller } from './caller';
import { isLimited, noteFailure } from './failure-limiter';
import { callerForUser, ORG_COOKIE } from './membership';
import { checkPassword } from './next-auth';

export function clientIp(req: Request): string | undefined {
  return req.headers.get('x-forwarded-for')?.split(',')[0]?.trim() || req.headers.get('x-real-ip') || undefined;
}

export async function requestCaller(req: NextRequest, opts: { allowBasic?: boolean } = {}): Promise<Caller | null> {
  const ip = clientIp(req);
  const credentials = parseAuthorization(req.headers.get('authorization'));
  if (credentials) {
    const limitKey = `ip:${ip ?? 'unknown'}`;
    if (isLimited(limitKey)) throw new AppError('rate_limited', 'Too many failed authentication attempts; try again later');
    try {
      if (credentials.scheme === 'bearer') return await callerFromApiToken(credentials.secret, ip);
      if (credentials.scheme === 'basic' && opts.allowBasic) return await callerFromBasic(credentials.user, credentials.password, req, ip);
      throw new AppError('unauthorized', opts.allowBasic ? 'Use a Bearer API token or HTTP Basic e-mail:password' : 'Use a Bearer API token');
    } catch (error) {
      if (error instanceof AppError && error.code === 'unauthorized') noteFailure(limitKey);
      throw error;
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
  const result = await checkPassword(user.trim().toLowerCase(), password);
  if (!result.ok) {
    throw result.limited
      ? new AppError('rate_limited', 'Too many failed sign-in attempts; try again later')
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
