'use server';

import { cookies } from 'next/headers';
import { z } from 'zod';
import { action } from '@/lib/api/action';
import { AppError } from '@/lib/api/errors';
import { ORG_COOKIE, userMemberships } from '@/lib/auth/membership';
import { changePassword, ZChangePassword } from '@/lib/orgs/profile';
import { ZOrgSettings } from '@/lib/orgs/schemas';
import { ZRolloutInput } from '@/lib/db/json-types';
import { renameOrg, setBuildRetention, setRolloutDefaults } from '@/lib/orgs/settings';
import { rotateCacheKey, ZRotateKey } from '@/lib/cache/key-rotation';
import { setTrustedKeys, ZTrustedKeys } from '@/lib/cache/trusted-keys';

export const renameOrgAction = action({ access: 'settings.manage', input: ZOrgSettings, revalidate: ['/', '/settings'] }, async ({ caller, input }) =>
  renameOrg(caller, input.name),
);

export const changePasswordAction = action({ access: 'authenticated', input: ZChangePassword }, async ({ caller, input }) => changePassword(caller, input));

export const switchOrgAction = action({ access: 'authenticated', input: z.strictObject({ orgId: z.uuid() }), revalidate: ['/'] }, async ({ caller, input }) => {
  const mine = await userMemberships(caller.user.id);
  if (!mine.some((m) => m.org.id === input.orgId)) throw new AppError('forbidden', 'You are not a member of that organisation');
  (await cookies()).set(ORG_COOKIE, input.orgId, { httpOnly: true, sameSite: 'lax', path: '/', maxAge: 365 * 24 * 60 * 60 });
  return { orgId: input.orgId };
});

export const setRetentionAction = action(
  { access: 'settings.manage', input: z.strictObject({ days: z.coerce.number().int().min(1, 'At least one day').max(3650) }), revalidate: ['/settings'] },
  async ({ caller, input }) => setBuildRetention(caller, input.days),
);

// The textarea sends one key per line; the API takes the same list as JSON.
const ZTrustedKeysForm = z.preprocess(
  (v) => (v && typeof v === 'object' && 'keys' in v && typeof v.keys === 'string' ? { keys: v.keys.split('\n').map((k) => k.trim()).filter(Boolean) } : v),
  ZTrustedKeys,
);

export const setTrustedKeysAction = action({ access: 'settings.manage', input: ZTrustedKeysForm, revalidate: ['/settings'] }, async ({ caller, input }) => setTrustedKeys(caller, input.keys));

export const setRolloutDefaultsAction = action(
  { access: 'settings.manage', input: z.strictObject({ defaults: ZRolloutInput }), revalidate: ['/settings'] },
  async ({ caller, input }) => setRolloutDefaults(caller, input.defaults),
);

// The same operation as POST /api/v1/cache/key-rotations (docs/decisions/0017).
export const rotateCacheKeyAction = action(
  // No default here: a rotation is never what an empty form means.
  { access: 'settings.manage', input: ZRotateKey.extend({ keepPreviousKeyHours: z.coerce.number().int().min(0).max(720) }), revalidate: ['/settings'] },
  async ({ caller, input }) => rotateCacheKey(caller, input),
);
