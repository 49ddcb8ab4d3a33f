// The server process the benches run: server.ts's startServer with the environment
// scripts/start.ts gives it (PORT, HOSTNAME, DATABASE_URL, AUTH_SECRET, NextAuth's URL
// and secret), minus the steps the bench did once before (the web app's build, the
// migrations). `npm run start:server` would rebuild the web app whenever any source is
// newer than the build: in a tree being edited that is every start, including the restart
// the reconnect storm times.
import { safeErrorForLog } from '@/lib/api/errors';
import { closeDb } from '@/lib/db/client';
import { env } from '@/lib/env';
import { startServer } from '../../server';

const config = env();
process.env.NEXTAUTH_URL ??= config.publicUrl;
process.env.NEXTAUTH_SECRET ??= process.env.AUTH_SECRET;

try {
  const server = await startServer({ port: config.PORT, hostname: config.HOSTNAME });
  console.log(`[flotilla] ready on ${server.url} (pid ${process.pid})`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await server.close();
    await closeDb();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
} catch (error) {
  console.error('[flotilla] could not start:', safeErrorForLog(error));
  process.exit(1);
}
