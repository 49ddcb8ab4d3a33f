// A person's own account: changing the password ends every other session.
import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { recordAudit } from '@/lib/audit/record';
import { AppError } from '@/lib/api/errors';
import type { Caller } from '@/lib/auth/caller';
import { hashPassword, verifyPassword, ZPassword } from '@/lib/auth/passwords';
import { db } from '@/lib/db/client';
import { users } from '@/lib/db/schema';

export const ZChangePassword = z.strictObject({
  currentPassword: z.string().max(256).optional(),
  newPassword: ZPassword,
});

export async function changePassword(caller: Caller, input: z.infer<typeof ZChangePassword>) {
  const [user] = await db().select().from(users).where(eq(users.id, caller.user.id));
  if (!user) throw new AppError('not_found', 'No such user');
  // People who came in through OIDC have no password yet and may set one.
  if (user.passwordHash && !(await verifyPassword(user.passwordHash, input.currentPassword ?? ''))) {
    throw new AppError('invalid_request', 'Your current password is wrong', { issues: [{ path: 'currentPassword', message: 'Wrong password' }] });
  }
  const passwordHash = await hashPassword(input.newPassword);
  await db().transaction(async (tx) => {
    await tx.update(users).set({ passwordHash, sessionEpoch: sql`${users.sessionEpoch} + 1` }).where(eq(users.id, user.id));
    await recordAudit(tx, caller, { action: 'user.password_change', objectType: 'user', objectId: user.id });
  });
  return { email: user.email };
}
