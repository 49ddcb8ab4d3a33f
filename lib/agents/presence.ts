// Hosts whose server went away without saying goodbye (a crash, a kill) would stay
// "online" forever: a host not heard from for three heartbeats is offline.
import { and, eq, lt } from 'drizzle-orm';
import { db } from '@/lib/db/client';
import { hosts } from '@/lib/db/schema';
import { HEARTBEAT_SECONDS } from './gateway';

export async function sweepPresence(now = new Date()) {
  const stale = new Date(now.getTime() - 3 * HEARTBEAT_SECONDS * 1000 - 30_000);
  const rows = await db()
    .update(hosts)
    .set({ online: false })
    .where(and(eq(hosts.online, true), lt(hosts.lastSeen, stale)))
    .returning({ id: hosts.id });
  return rows.length;
}
