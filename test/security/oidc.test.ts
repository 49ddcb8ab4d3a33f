// Finding 10, OIDC: an identity provider's profile signs someone in only when it says the
// e-mail address is verified (`email_verified: true`). Missing or false is refused with
// an error code the login page explains, before any account is looked up or linked.
import { and, eq } from 'drizzle-orm';
import type { Account, Profile, User } from 'next-auth';
import { beforeAll, describe, expect, it } from 'vitest';
import { authOptions, oidcRefusal } from '@/lib/auth/next-auth';
import { db } from '@/lib/db/client';
import { accounts } from '@/lib/db/schema';
import { makeOrg, type OrgFixture } from '../fixtures';

let fx: OrgFixture;
beforeAll(async () => {
  fx = await makeOrg();
});

/** The signIn callback as next-auth calls it after the provider's callback. */
async function signIn(email: string, claims: Record<string, unknown>) {
  const signInCallback = authOptions().callbacks?.signIn;
  if (!signInCallback) throw new Error('no signIn callback');
  const sub = `sub-${email}`;
  const user: User = { id: sub, email, name: 'Sso Person' };
  const account: Account = { provider: 'oidc', type: 'oauth', providerAccountId: sub };
  const profile = { sub, email, name: 'Sso Person', ...claims } as Profile;
  return signInCallback({ user, account, profile });
}

const linked = async (email: string) => db().select().from(accounts).where(and(eq(accounts.provider, 'oidc'), eq(accounts.providerAccountId, `sub-${email}`)));

describe('OIDC email_verified', () => {
  it('a profile without email_verified is refused, and nothing is linked', async () => {
    const email = fx.members.viewer.email;
    await expect(signIn(email, {})).rejects.toThrow('OidcEmailUnverified');
    expect(await linked(email)).toHaveLength(0);
  });

  it('email_verified false, or anything but the boolean true, is refused', async () => {
    const email = fx.members.viewer.email;
    for (const value of [false, 'true', 1, null]) {
      await expect(signIn(email, { email_verified: value }), String(value)).rejects.toThrow('OidcEmailUnverified');
    }
    expect(await linked(email)).toHaveLength(0);
  });

  it('a profile without an e-mail address is refused with its own reason', () => {
    expect(oidcRefusal({ sub: 'x', email_verified: true })).toBe('OidcNoEmail');
    expect(oidcRefusal({ sub: 'x', email: 'a@example.com', email_verified: true })).toBeNull();
  });

  it('email_verified true signs in an existing member and links the identity', async () => {
    const email = fx.members.operator.email;
    expect(await signIn(email, { email_verified: true })).toBe(true);
    expect(await linked(email)).toHaveLength(1);
  });
});
