// Failed-authentication counters in PostgreSQL (auth_failures), so every server
// process counts the same failures: one row per key, one upsert per failure, each key
// in a fixed window that starts at its first failure. Nothing is kept in memory, so
// rotating addresses or e-mails cannot grow a map; rows past their window are swept.
// Successes never touch the table (a password success forgets one key, see limits.ts).
import { eq, inArray, lt, sql } from 'drizzle-orm';
import { db as sharedDb, type Db } from '@/lib/db/client';
import { authFailures } from '@/lib/db/schema';

export type FailureCount = { count: number; lastAt: Date; expiresAt: Date; now: Date };
export type FailureCounts = ReturnType<typeof createFailureCounts>;

/** Expired rows are deleted at most this often per process, on the failure path. */
const SWEEP_EVERY_MS = 60_000;

/** `database` is for tests that play several processes; the server uses its one pool. */
export function createFailureCounts(database?: Db) {
  const db = () => database ?? sharedDb();
  let sweptAt = 0;

  async function sweep() {
    if (Date.now() - sweptAt < SWEEP_EVERY_MS) return;
    sweptAt = Date.now();
    await db().delete(authFailures).where(lt(authFailures.expiresAt, sql`now()`));
  }

  return {
    /** One more failure for each key (a fresh window where the old one has ended), in one statement. */
    async add(keys: { key: string; windowSeconds: number }[]): Promise<Map<string, FailureCount>> {
      if (keys.length === 0) return new Map();
      const expired = sql`${authFailures.expiresAt} <= now()`;
      const rows = await db()
        .insert(authFailures)
        .values(keys.map(({ key, windowSeconds }) => ({ key, count: 1, lastAt: sql`now()`, expiresAt: sql`now() + make_interval(secs => ${windowSeconds})` })))
        .onConflictDoUpdate({
          target: authFailures.key,
          set: {
            count: sql`case when ${expired} then 1 else ${authFailures.count} + 1 end`,
            expiresAt: sql`case when ${expired} then excluded.expires_at else ${authFailures.expiresAt} end`,
            lastAt: sql`now()`,
          },
        })
        .returning({ key: authFailures.key, count: authFailures.count, lastAt: authFailures.lastAt, expiresAt: authFailures.expiresAt });
      await sweep();
      // last_at was just set to now(), the statement's clock: the same clock as expires_at.
      return new Map(rows.map(({ key, ...row }) => [key, { ...row, now: row.lastAt }]));
    },

    /** The live counts of these keys; a key without failures in its window is absent. */
    async read(keys: string[]): Promise<Map<string, FailureCount>> {
      const rows = await db()
        .select({
          key: authFailures.key,
          count: authFailures.count,
          lastAt: authFailures.lastAt,
          expiresAt: authFailures.expiresAt,
          now: sql<Date>`now()`.mapWith(authFailures.lastAt),
        })
        .from(authFailures)
        .where(inArray(authFailures.key, keys));
      return new Map(rows.filter((row) => row.expiresAt > row.now).map(({ key, ...row }) => [key, row]));
    },

    async forget(key: string) {
      await db().delete(authFailures).where(eq(authFailures.key, key));
    },
  };
}
