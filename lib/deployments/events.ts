// Wake-ups for the rollout driver, over PostgreSQL LISTEN/NOTIFY, so a result reported
// to any server process moves the rollout at once instead of at the driver's next tick.
import { sql } from 'drizzle-orm';
import { db, type Tx } from '@/lib/db/client';

export const ROLLOUT_CHANNEL = 'flotilla_rollout';

/** Something changed in this deployment: whichever driver hears it advances it (in a transaction: when it commits). */
export async function nudgeRollout(deploymentId: string, tx: Tx = db()) {
  await tx.execute(sql`select pg_notify(${ROLLOUT_CHANNEL}, ${deploymentId})`);
}
