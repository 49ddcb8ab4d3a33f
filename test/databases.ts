// Test databases: a migrated template per run, and a copy of it per test file, on
// the PostgreSQL of DATABASE_URL or, when it is unset, on an embedded one.
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

export function databaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Refuse to create and drop databases anywhere but on this machine. */
export function assertLocal(serverUrl: string) {
  const host = new URL(serverUrl).hostname;
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host)) {
    throw new Error(`Tests create and drop databases; refusing to run against ${host}. Point DATABASE_URL at a local server.`);
  }
}

export async function createDatabase(adminUrl: string, name: string, template?: string) {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`create database "${name}"${template ? ` template "${template}"` : ''}`);
  } finally {
    await sql.end();
  }
}

export async function dropDatabasesLike(adminUrl: string, prefix: string) {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql<{ datname: string }[]>`select datname from pg_database where datname like ${`${prefix}%`}`;
    for (const { datname } of rows) await sql.unsafe(`drop database if exists "${datname}" with (force)`);
  } finally {
    await sql.end();
  }
}

export const uniqueName = (prefix: string) => `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
