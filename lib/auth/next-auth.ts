// next-auth (v4) configuration: e-mail + password, and a generic OIDC provider when
// FLOTILLA_OIDC_* is set. Sessions are JWTs carrying the user id and session epoch.
import { and, eq, gt, isNull } from 'drizzle-orm';
import type { NextAuthOptions } from 'next-auth';
import CredentialsProvider from 'next-auth/providers/credentials';
import { z } from 'zod';
import { recordAudit } from '@/lib/audit/record';
import { db } from '@/lib/db/client';
import { accounts, invitations, users } from '@/lib/db/schema';
import { env } from '@/lib/env';
import { clearFailures, isLimited, noteFailure } from './failure-limiter';
import { verifyPassword } from './passwords';

const ZCredentials = z.object({ email: z.string().trim().toLowerCase().max(320), password: z.string().max(256) });

export function oidcEnabled() {
  return Boolean(env().FLOTILLA_OIDC_ISSUER);
}

export async function checkPassword(email: string, password: string) {
  const key = `login:${email}`;
  if (isLimited(key)) return { ok: false as const, limited: true };
  const [user] = await db().select().from(users).where(eq(users.email, email)).limit(1);
  const ok = await verifyPassword(user?.passwordHash ?? null, password);
  if (!ok || !user || user.disabledAt) {
    noteFailure(key);
    return { ok: false as const, limited: false };
  }
  clearFailures(key);
  return { ok: true as const, user };
}

function providers(): NextAuthOptions['providers'] {
  const list: NextAuthOptions['providers'] = [
    CredentialsProvider({
      id: 'credentials',
      name: 'E-mail and password',
      credentials: { email: { label: 'E-mail', type: 'email' }, password: { label: 'Password', type: 'password' } },
      async authorize(raw) {
        const parsed = ZCredentials.safeParse(raw);
        if (!parsed.success) return null;
        const result = await checkPassword(parsed.data.email, parsed.data.password);
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
        const claims = profile as { email_verified?: boolean } | undefined;
        if (!user.email || claims?.email_verified === false) return false;
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
