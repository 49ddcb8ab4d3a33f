// Delivering the outbox: claim undelivered events (FOR UPDATE SKIP LOCKED, so any number
// of processes can dispatch at once without handing one event to two of them), run the
// subscribers that have not handled each event yet, and record the outcome. Delivery is
// at least once: a process that dies while running subscribers leaves its claim to
// expire and another process runs them again, so every subscriber is idempotent by the
// event (lib/events/subscribers.ts says how each one is).
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { db } from '@/lib/db/client';
import { outboxEvents } from '@/lib/db/schema';
import { ZDomainEvent } from './schemas';
import { subscribersFor } from './subscribers';

/** How long an event is left to the process that committed it before the background dispatcher takes it. */
export const COMMITTER_GRACE_SECONDS = 5;
/** How long a claim holds: a dispatcher that died releases its events after this. */
const LEASE_SECONDS = 60;
const BATCH = 100;

const ZClaimed = z.object({ id: z.uuid(), seq: z.coerce.number(), type: z.string(), payload: z.unknown(), done: z.array(z.string()), attempts: z.number() });

/** Seconds before the next try after `attempts` failed ones: 2, 4, 8 … at most 5 minutes. */
export const retryDelaySeconds = (attempts: number) => Math.min(300, 2 ** Math.max(1, attempts));

/**
 * Claims and delivers a batch of events: the given ones on their first attempt (the
 * committer, right after its commit), or any whose time has come (the background
 * dispatcher). Returns how many it claimed.
 */
export async function dispatchEvents(opts: { ids?: string[]; firstAttempt?: boolean; limit?: number } = {}): Promise<number> {
  const t = outboxEvents;
  const which = opts.ids
    ? sql`${t.id} = any(${`{${opts.ids.join(',')}}`}::uuid[])${opts.firstAttempt ? sql` and ${t.attempts} = 0` : sql``}`
    : sql`${t.availableAt} <= now()`;
  const rows = await db().execute(sql`
    with claimed as (
      select ${t.id} as id from ${t}
      where ${t.deliveredAt} is null and ${which}
      order by ${t.seq}
      limit ${opts.limit ?? BATCH}
      for update skip locked
    )
    update ${t} set attempts = ${t.attempts} + 1, available_at = now() + make_interval(secs => ${LEASE_SECONDS})
    from claimed where ${t.id} = claimed.id
    returning ${t.id} as id, ${t.seq} as seq, ${t.type} as type, ${t.payload} as payload, ${t.done} as done, ${t.attempts} as attempts`);
  const claimed = z.array(ZClaimed).parse([...rows]).sort((a, b) => a.seq - b.seq);
  for (const row of claimed) await deliver(row);
  return claimed.length;
}

async function deliver(row: z.infer<typeof ZClaimed>) {
  const t = outboxEvents;
  const parsed = ZDomainEvent.safeParse(row.payload);
  if (!parsed.success) {
    // Written by a release that knew a shape this one does not: kept for a person to look at, never retried blindly.
    console.error(`[outbox] event ${row.id} (${row.type}) does not parse; left undelivered: ${parsed.error.message}`);
    await db()
      .update(t)
      .set({ lastError: `does not parse: ${parsed.error.message}`.slice(0, 2000), availableAt: sql`'infinity'::timestamptz` })
      .where(sql`${t.id} = ${row.id}`);
    return;
  }
  const done = [...row.done];
  const errors: string[] = [];
  for (const subscriber of subscribersFor(parsed.data.type)) {
    if (done.includes(subscriber.name)) continue;
    try {
      await subscriber.run(parsed.data, { eventId: row.id });
      done.push(subscriber.name);
    } catch (error) {
      errors.push(`${subscriber.name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (errors.length === 0) {
    await db().update(t).set({ done, deliveredAt: sql`now()`, lastError: null }).where(sql`${t.id} = ${row.id}`);
    return;
  }
  const delay = retryDelaySeconds(row.attempts);
  console.error(`[outbox] event ${row.id} (${row.type}) attempt ${row.attempts} failed, retrying in ${delay} s: ${errors.join('; ')}`);
  await db()
    .update(t)
    .set({ done, lastError: errors.join('; ').slice(0, 2000), availableAt: sql`now() + make_interval(secs => ${delay})` })
    .where(sql`${t.id} = ${row.id}`);
}

/**
 * The background dispatcher (the worker runs one; so does the test harness): every
 * `intervalMs` it delivers whatever is due — events whose committer died, retries. A
 * database that is down is logged once per outage, not once per tick.
 */
export function startOutboxDispatcher(opts: { intervalMs?: number; log?: (line: string) => void } = {}) {
  const log = opts.log ?? ((line: string) => console.log(line));
  let stopped = false;
  let failing = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const tick = async () => {
    try {
      while (!stopped && (await dispatchEvents()) === BATCH) {
        // A full batch: more are waiting.
      }
      if (failing) log('[outbox] dispatching again');
      failing = false;
    } catch (error) {
      if (!failing) log(`[outbox] dispatch failed, retrying every ${opts.intervalMs ?? 1000} ms: ${error instanceof Error ? error.message : error}`);
      failing = true;
    }
    if (!stopped) timer = setTimeout(() => (running = tick()), opts.intervalMs ?? 1000);
  };
  running = tick();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

/** Delivered events are history: kept a week for support, then removed. */
export async function pruneOutbox(olderThanDays = 7): Promise<number> {
  const t = outboxEvents;
  const removed = await db()
    .delete(t)
    .where(sql`${t.deliveredAt} < now() - make_interval(days => ${olderThanDays})`)
    .returning({ id: t.id });
  return removed.length;
}
