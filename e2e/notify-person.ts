// Calls notifyPeople against the database of the running e2e server, for tests of the
// bell: nothing in the product notifies people on demand. Usage:
//   tsx e2e/notify-person.ts '{"userId": "…", "orgId": "…", "notice": {kind, key, title, url?}}'
// e2e/serve.ts keeps its database to itself, so this finds it: among the databases it
// makes (flotilla_e2e_* on DATABASE_URL's server, or an embedded PostgreSQL in a
// flotilla-e2e-* temporary directory), the one holding the given user. User ids are
// random UUIDs, so only the server's own database matches.
import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { z } from 'zod';
import { databaseUrl } from '../test/databases';

const ZArgs = z.object({
  userId: z.uuid(),
  orgId: z.uuid(),
  notice: z.object({ kind: z.string(), key: z.string(), title: z.string(), body: z.string().optional(), url: z.string().optional() }),
});
const args = ZArgs.parse(JSON.parse(process.argv[2] ?? '{}'));

async function candidates(): Promise<string[]> {
  const server = process.env.DATABASE_URL;
  if (server) {
    const sql = postgres(server, { max: 1, onnotice: () => {} });
    try {
      const rows = await sql<{ datname: string }[]>`select datname from pg_database where datname like 'flotilla\_e2e\_%' order by datname desc`;
      return rows.map((r) => databaseUrl(server, r.datname));
    } finally {
      await sql.end();
    }
  }
  const urls: string[] = [];
  for (const entry of await readdir(os.tmpdir())) {
    if (!entry.startsWith('flotilla-e2e-')) continue;
    const dir = path.join(os.tmpdir(), entry);
    try {
      const password = (await readFile(path.join(dir, 'postgres-password'), 'utf8')).trim();
      // postmaster.pid: line 4 is the port of the running server.
      const port = (await readFile(path.join(dir, 'postgres', 'postmaster.pid'), 'utf8')).split('\n')[3]?.trim();
      if (port) urls.push(`postgres://flotilla:${encodeURIComponent(password)}@127.0.0.1:${port}/flotilla`);
    } catch {
      // Not an embedded server's directory, or one that is not running.
    }
  }
  return urls;
}

async function holdsUser(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    const rows = await sql`select 1 from users where id = ${args.userId}`;
    return rows.length === 1;
  } catch {
    return false;
  } finally {
    await sql.end();
  }
}

let found: string | undefined;
for (const url of await candidates()) {
  if (await holdsUser(url)) {
    found = url;
    break;
  }
}
if (!found) {
  console.error(`no e2e database holds user ${args.userId}`);
  process.exit(1);
}
process.env.DATABASE_URL = found;
// Imported only now: the database client reads DATABASE_URL on first use.
const { notifyPeople } = await import('../lib/notify/people');
const { closeDb } = await import('../lib/db/client');
await notifyPeople(args.orgId, [args.userId], args.notice);
await closeDb();
console.log('notified');
