// Live build progress for the browser and the CLI: status, progress and new log text.
import { eq, sql } from 'drizzle-orm';
import type { StreamInput } from '@/lib/api/event-stream';
import { typedEventStream } from '@/lib/api/sse';
import { ZBuildStream } from '@/lib/api/streams';
import { db } from '@/lib/db/client';
import { builds } from '@/lib/db/schema';
import { FINAL_BUILD_STATUSES, isOneOf } from '@/lib/db/statuses';

const isFinalBuild = isOneOf(FINAL_BUILD_STATUSES);

export function buildEvents(buildId: string, signal: AbortSignal): ReadableStream<Uint8Array> {
  let offset = 0;
  return typedEventStream(ZBuildStream, async () => {
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
    if (!row) return { events: [], done: true };
    const events: StreamInput<typeof ZBuildStream>[] = [];
    // The log keeps its last 2 MB: if it was cut at the front, start over from what is there.
    if (row.length < offset) offset = 0;
    if (row.chunk) {
      events.push({ event: 'log', data: { text: row.chunk } });
      offset += row.chunk.length;
    }
    events.push({ event: 'status', data: { status: row.status, progress: row.progress, error: row.error, storePath: row.storePath, closureSize: row.closureSize } });
    return { events, done: isFinalBuild(row.status) && offset >= row.length };
  }, signal);
}
