// Live build progress for the browser and the CLI: a Server-Sent Events stream that
// reads the build row once a second (any server instance can answer, since the
// worker writes progress to PostgreSQL) and sends status, progress and new log text.
import { eq, sql } from 'drizzle-orm';
import { db } from '@/lib/db/client';
import { builds } from '@/lib/db/schema';

const FINAL = new Set(['succeeded', 'failed', 'cancelled']);
const POLL_MS = 1_000;

export function buildEvents(buildId: string, signal: AbortSignal): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let offset = 0;
  let timer: NodeJS.Timeout | undefined;
  return new ReadableStream({
    start(controller) {
      const send = (event: string, data: unknown) => controller.enqueue(encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
      const close = () => {
        clearTimeout(timer);
        try {
          controller.close();
        } catch {
          // already closed by the client going away
        }
      };
      signal.addEventListener('abort', close);
      const tick = async () => {
        try {
          const [row] = await db()
            .select({
              status: builds.status,
              progress: builds.progress,
              error: builds.error,
              storePath: builds.storePath,
              closureSize: builds.closureSize,
              length: sql<number>`length(${builds.log})`,
              chunk: sql<string>`substr(${builds.log}, ${offset + 1}, 262144)`,
            })
            .from(builds)
            .where(eq(builds.id, buildId));
          if (!row) return close();
          // The log keeps its last 2 MB: if it was cut at the front, start over from what is there.
          if (row.length < offset) offset = 0;
          if (row.chunk) {
            send('log', { text: row.chunk });
            offset += row.chunk.length;
          }
          send('status', { status: row.status, progress: row.progress, error: row.error, storePath: row.storePath, closureSize: row.closureSize });
          if (FINAL.has(row.status) && offset >= row.length) return close();
        } catch (error) {
          send('error', { message: error instanceof Error ? error.message : 'stream failed' });
          return close();
        }
        if (!signal.aborted) timer = setTimeout(() => void tick(), POLL_MS);
      };
      void tick();
    },
    cancel() {
      clearTimeout(timer);
    },
  });
}
