// Events about a host that every server process must hear, over PostgreSQL
// LISTEN/NOTIFY with a small payload (`<event>:<host id>`), sent outside hot
// transactions. A credential change is the exception: its NOTIFY goes in the change's
// own transaction, which PostgreSQL delivers exactly when it commits, so a crash between
// the commit and a separate NOTIFY cannot leave a revoked agent connected.
import { sql } from 'drizzle-orm';
import { db, type Tx } from '@/lib/db/client';

export const HOST_CHANNEL = 'flotilla_host';

/** The host's credential was revoked or replaced, or the host retired: whoever holds its socket closes it. */
export async function announceCredentialChange(tx: Tx, hostId: string) {
  await tx.execute(sql`select pg_notify(${HOST_CHANNEL}, ${`credential:${hostId}`})`);
}

export const RELEASED_EVENT = 'released';

/**
 * A deployment released targets, to any number of hosts: one NOTIFY, and every server
 * process delivers to the hosts it holds in a few batched transactions.
 */
export async function announceRelease(deploymentId: string) {
  await db().execute(sql`select pg_notify(${HOST_CHANNEL}, ${`${RELEASED_EVENT}:${deploymentId}`})`);
}

/** A decision was made for one of the host's blocked targets: whoever holds its socket sends it. */
export async function announceDecision(hostId: string) {
  await db().execute(sql`select pg_notify(${HOST_CHANNEL}, ${`decision:${hostId}`})`);
}

/** An operator asked to restore one of the host's snapshots: whoever holds its socket sends it. */
export async function announceRestore(hostId: string) {
  await db().execute(sql`select pg_notify(${HOST_CHANNEL}, ${`restore:${hostId}`})`);
}

/** A deployment with a target in flight on the host was cancelled: whoever holds its socket sends `cancel`. */
export async function announceCancel(hostId: string) {
  await db().execute(sql`select pg_notify(${HOST_CHANNEL}, ${`cancel:${hostId}`})`);
}
