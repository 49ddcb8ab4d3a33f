import { sql } from 'drizzle-orm';
import { route } from '@/lib/api/route';
import { db } from '@/lib/db/client';

export const dynamic = 'force-dynamic';

export const GET = route({ access: 'public', summary: 'Liveness and database reachability' }, async () => {
  const started = performance.now();
  try {
    await db().execute(sql`select 1`);
    return { status: 'ok', database: { status: 'ok', latencyMs: Math.round((performance.now() - started) * 10) / 10 } };
  } catch (error) {
    console.error('[health] database unreachable', error);
    return Response.json({ status: 'degraded', database: { status: 'unreachable' } }, { status: 503 });
  }
});
