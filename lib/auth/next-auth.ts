// next-auth (v4) configuration: e-mail + password, and a generic OIDC provider when
// FLOTILLA_OIDC_* is set. Sessions are JWTs carrying the user id and session epoch.
import 'server-only';
import { and, eq, gt, isNull } from 'drizzle-orm';
import type { NextAuthOptions } from 'next-auth';
import CredentialsProvider from 'next-auth/providers/credentials';
import { z } from 'zod';
import { recordAudit } from '@/lib/audit/record';
import { db } from '@/lib/db/client';
import { accounts, invitations, users, type User } from '@/lib/db/schema';
import { env } from '@/lib/env';
import { CLIENT_ADDRESS_HEADER, normalizeAddress, UNKNOWN_ADDRESS } from './limiter/client-address';
import { authLimiter, type Limited } from './limiter/limits';
import { verifyPassword } from './passwords';

const ZCredentials = z.object({ email: z.string().trim().toLowerCase().max(320), password: z.string().max(256) });

export function oidcEnabled() {
  return Boolean(env().FLOTILLA_OIDC_ISSUER);
}

/**
 * An e-mail and password from `address` (the client, as server.ts resolved it), under
 * the sign-in limits of lib/auth/limiter/limits.ts: `limited` says how long to wait.
 * Unknown e-mails, wrong passwords and disabled users fail alike. Every request path
 * passes the address; without one (scripts, tests) the try counts as from "unknown".
 */
export async function checkPassword(email: string, password: string, address: string = UNKNOWN_ADDRESS): Promise<{ ok: true; user: User } | { ok: false; limited: Limited | null }> {
  let user: User | undefined;
  const outcome = await authLimiter().guardPassword(email, address, async () => {
    [user] = await db().select().from(users).where(eq(users.email, email)).limit(1);
    const ok = await verifyPassword(user?.passwordHash ?? null, password);
    return ok && Boolean(user) && !user?.disabledAt;
  });
  if (!outcome.ok || !user) return { ok: false, limited: outcome.ok ? null : outcome.limited };
  return { ok: true, user };
}

function providers(): NextAuthOptions['providers'] {
  const list: NextAuthOptions['providers'] = [
    CredentialsProvider({
      id: 'credentials',
      name: 'E-mail and password',
      credentials: { email: { label: 'E-mail', type: 'email' }, password: { label: 'Password', type: 'password' } },
      async authorize(raw, req) {
        const parsed = ZCredentials.safeParse(raw);
        if (!parsed.success) return null;
        // next-auth hands over the request's headers, where server.ts put the client address.
        const header: unknown = req.headers?.[CLIENT_ADDRESS_HEADER];
        const address = normalizeAddress(typeof header === 'string' ? header : null) ?? UNKNOWN_ADDRESS;
        const result = await checkPassword(parsed.data.email, parsed.data.password, address);
        if (!result.ok) throw new Error(result.limited ? 'RateLimited' : 'CredentialsSignin');
        return { id: result.user.id, email: result.user.email, name: result.user.name };
      },
    }),
  ];
  const e = env();
  if (e.FLOTILLA_OIDC_ISSUER && e.FLOTILLA_OIDC_CLIENT_ID && e.FLOTILLA_OIDC_CLIENT_SECRET) {
    list.push({
      id: 'oidc',
      name: e.FLOTILLA_OIDC_NAME ?? 'Single sign-on',
      type: 'oauth',
      wellKnown: `${e.FLOTILLA_OIDC_ISSUER.replace(/\/$/, '')}/.well-known/openid-configuration`,
      clientId: e.FLOTILLA_OIDC_CLIENT_ID,
      clientSecret: e.FLOTILLA_OIDC_CLIENT_SECRET,
      authorization: { params: { scope: 'openid email profile' } },
      idToken: true,
      checks: ['pkce', 'state'],
      profile(profile: { sub: string; email?: string; name?: string; email_verified?: boolean }) {
        return { id: profile.sub, email: profile.email?.toLowerCase() ?? null, name: profile.name ?? profile.email ?? profile.sub };
      },
    });
  }
  return list;
}

/**
 * The identity provider must vouch for the e-mail address: accounts are matched by
 * address, so an unverified one (a provider that lets anyone type any address) would
 * sign in as whoever owns it here. `email_verified` must be exactly true; missing is refused.
 */
const ZOidcClaims = z.object({ email: z.string().min(3), email_verified: z.literal(true) });

/** Why an OIDC profile is refused (the login page's error code), or null. */
export function oidcRefusal(profile: unknown): 'OidcNoEmail' | 'OidcEmailUnverified' | null {
  const claims = ZOidcClaims.safeParse(profile);
  if (claims.success) return null;
  return claims.error.issues.some((i) => i.path[0] === 'email') ? 'OidcNoEmail' : 'OidcEmailUnverified';
}

/**
 * OIDC does not create people: the identity must belong to an existing user or to a
 * pending invitation (which it then accepts). The admin decides who gets in.
 */
async function linkOidcIdentity(email: string, name: string, providerAccountId: string): Promise<boolean> {
  return db().transaction(async (tx) => {
    const [linked] = await tx
      .select({ userId: accounts.userId })
      .from(accounts)
      .where(and(eq(accounts.provider, 'oidc'), eq(accounts.providerAccountId, providerAccountId)));
    let [user] = linked
      ? await tx.select().from(users).where(eq(users.id, linked.userId))
      : await tx.select().from(users).where(eq(users.email, email));
    if (!user) {
      const { acceptInvitationRows } = await import('@/lib/orgs/accept-invitation');
      const pending = await tx
        .select()
        .from(invitations)
        .where(and(eq(invitations.email, email), isNull(invitations.acceptedAt), isNull(invitations.revokedAt), gt(invitations.expiresAt, new Date())));
      if (pending.length === 0) return false;
      user = await acceptInvitationRows(tx, pending, { name, passwordHash: null });
    }
    if (user.disabledAt) return false;
    if (!linked) {
      await tx.insert(accounts).values({ userId: user.id, type: 'oauth', provider: 'oidc', providerAccountId }).onConflictDoNothing();
      await recordAudit(tx, { system: 'oidc', userId: user.id }, { action: 'user.link_oidc', objectType: 'user', objectId: user.id });
    }
    return true;
  });
}

export function authOptions(): NextAuthOptions {
  return {
    secret: process.env.AUTH_SECRET,
    session: { strategy: 'jwt', maxAge: 30 * 24 * 60 * 60 },
    pages: { signIn: '/login', error: '/login' },
    providers: providers(),
    callbacks: {
      async signIn({ user, account, profile }) {
        if (account?.provider !== 'oidc') return true;
        // next-auth turns a thrown error into /login?error=<message>, which the form explains.
        const refusal = oidcRefusal(profile);
        if (refusal) throw new Error(refusal);
        if (!user.email) throw new Error('OidcNoEmail');
        return linkOidcIdentity(user.email.toLowerCase(), user.name ?? user.email, account.providerAccountId);
      },
      async jwt({ token, user, account }) {
        if (user) {
          const email = (user.email ?? '').toLowerCase();
          const [row] =
            account?.provider === 'oidc'
              ? await db().select().from(users).where(eq(users.email, email))
              : await db().select().from(users).where(eq(users.id, user.id));
          if (row) {
            token.uid = row.id;
            token.epoch = row.sessionEpoch;
          }
        }
        return token;
      },
      async session({ session, token }) {
        return { ...session, uid: token.uid, epoch: token.epoch };
      },
    },
  };
}

declare module 'next-auth/jwt' {
  interface JWT {
    uid?: string;
    epoch?: number;
  }
}
