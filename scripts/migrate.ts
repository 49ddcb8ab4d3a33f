// `npm run db:migrate`: apply the committed migrations to DATABASE_URL.
import { runMigrations } from '@/lib/db/migrate';
import { env } from '@/lib/env';

const url = env().DATABASE_URL;
if (!url) {
  console.error('Set DATABASE_URL (npm start migrates the embedded database by itself)');
  process.exit(1);
}
await runMigrations(url);
console.log('migrations applied');
