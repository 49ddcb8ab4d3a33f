// One postgres.js pool per process, kept on globalThis so Next.js hot reload and the
// custom server share it instead of leaking connections.
import 'server-only';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from './schema';

export type Db = PostgresJsDatabase<typeof schema>;
/** A transaction or the database: what a function that writes should accept. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0] | Db;

const globalForDb = globalThis as unknown as { flotillaSql?: postgres.Sql; flotillaDb?: Db };

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

export async function closeDb() {
  const client = globalForDb.flotillaSql;
  globalForDb.flotillaSql = undefined;
  globalForDb.flotillaDb = undefined;
  await client?.end({ timeout: 5 });
}
