// One postgres.js pool per process, kept on globalThis so Next.js hot reload and the
// custom server share it instead of leaking connections.
import 'server-only';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from './schema';

export type Db = PostgresJsDatabase<typeof schema>;
/** A transaction or the database: what a function that writes should accept. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0] | Db;

const globalForDb = globalThis as unknown as { flotillaSql?: postgres.Sql; flotillaDb?: Db; flotillaPresenceSql?: postgres.Sql; flotillaPresenceDb?: Db };

function connectionString(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: start Flotilla with `npm start`, which provides the embedded database');
  return url;
}

export function sqlClient(): postgres.Sql {
  globalForDb.flotillaSql ??= postgres(connectionString(), {
    max: Number(process.env.FLOTILLA_DB_POOL ?? 10),
    onnotice: () => {},
  });
  return globalForDb.flotillaSql;
}

export function db(): Db {
  globalForDb.flotillaDb ??= drizzle(sqlClient(), { schema });
  return globalForDb.flotillaDb;
}

/**
 * Two connections of their own for presence (heartbeat flushes, the gateway's liveness
 * beat, connects and disconnects): whatever else crowds the main pool (a deployment to
 * thousands of hosts), a connected host is never marked offline for want of a slot.
 */
export const PRESENCE_LOCK_TIMEOUT_MS = 2_000;

export function presenceDb(): Db {
  // A presence write never waits long behind a lock: it fails, and the next flush retries it.
  globalForDb.flotillaPresenceSql ??= postgres(connectionString(), { max: 2, onnotice: () => {}, connection: { lock_timeout: PRESENCE_LOCK_TIMEOUT_MS } });
  globalForDb.flotillaPresenceDb ??= drizzle(globalForDb.flotillaPresenceSql, { schema });
  return globalForDb.flotillaPresenceDb;
}

export async function closeDb() {
  const clients = [globalForDb.flotillaSql, globalForDb.flotillaPresenceSql];
  globalForDb.flotillaSql = undefined;
  globalForDb.flotillaDb = undefined;
  globalForDb.flotillaPresenceSql = undefined;
  globalForDb.flotillaPresenceDb = undefined;
  await Promise.all(clients.map((c) => c?.end({ timeout: 5 })));
}
