import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../lib/db/embedded';
import { runMigrations } from '../lib/db/migrate';
import { assertLocal, createDatabase, databaseUrl, dropDatabasesLike, uniqueName } from './databases';

declare module 'vitest' {
  export interface ProvidedContext {
    adminUrl: string;
    templateDb: string;
  }
}

export default async function setup(project: TestProject) {
  let embedded: EmbeddedDatabase | undefined;
  let tmp: string | undefined;
  let adminUrl = process.env.DATABASE_URL;
  if (adminUrl) {
    assertLocal(adminUrl);
  } else {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-vitest-'));
    embedded = await startEmbeddedPostgres(tmp);
    adminUrl = embedded.url;
  }
  const runPrefix = uniqueName('flotilla_test');
  const templateDb = `${runPrefix}_tpl`;
  await createDatabase(adminUrl, templateDb);
  await runMigrations(databaseUrl(adminUrl, templateDb));
  project.provide('adminUrl', adminUrl);
  project.provide('templateDb', templateDb);
  console.log(`[tests] PostgreSQL: ${embedded ? 'embedded (DATABASE_URL unset)' : 'DATABASE_URL'}; databases ${runPrefix}_*`);

  return async () => {
    await dropDatabasesLike(adminUrl, runPrefix);
    await embedded?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  };
}
