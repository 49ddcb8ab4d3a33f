// The caller behind a page render or a server action: the next-auth session, in the
// organisation the user picked (cookie), re-checked against the database each time.
import { getServerSession } from 'next-auth';
import { cookies, headers } from 'next/headers';
import { z } from 'zod';
import type { Caller } from './caller';
import { requestClientAddress } from './limiter/client-address';
import { callerForUser, ORG_COOKIE } from './membership';
import { authOptions } from './next-auth';

const ZSessionClaims = z.object({ uid: z.string(), epoch: z.number().optional() });

export async function sessionCaller(): Promise<Caller | null> {
  const claims = ZSessionClaims.safeParse(await getServerSession(authOptions()));
  if (!claims.success) return null;
  const [jar, hdrs] = await Promise.all([cookies(), headers()]);
  return callerForUser(claims.data.uid, {
    epoch: claims.data.epoch,
    orgHint: jar.get(ORG_COOKIE)?.value,
    ip: requestClientAddress(hdrs),
  });
}
