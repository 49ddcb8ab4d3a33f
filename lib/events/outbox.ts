// The transactional outbox: `emit(tx, event)` writes a domain event in the transaction
// that made the change, so the event exists exactly when the change does. Whoever
// committed dispatches its own events at once (`transaction()` below); the dispatcher in
// the worker (lib/events/dispatch.ts) picks up any whose process died first.
import { AsyncLocalStorage } from 'node:async_hooks';
import { sql } from 'drizzle-orm';
import { db, type Tx } from '@/lib/db/client';
import { outboxEvents } from '@/lib/db/schema';
import { COMMITTER_GRACE_SECONDS, dispatchEvents } from './dispatch';
import { ZDomainEvent, type TDomainEventInput, type TEventType } from './schemas';

type Emitted = { id: string; type: TEventType };

// The events written by the transaction() running in this async context, for its
// after-commit dispatch. An emit outside transaction() is still durable: the background
// dispatcher delivers it after its grace period.
const unitOfWork = new AsyncLocalStorage<Emitted[]>();

/** Writes a domain event in the caller's transaction. Returns its id. */
export async function emit(tx: Tx, event: TDomainEventInput): Promise<string> {
  const e = ZDomainEvent.parse(event);
  // Left to this process for a few seconds: its transaction() dispatches it right after the commit.
  const availableAt = sql`now() + make_interval(secs => ${COMMITTER_GRACE_SECONDS})`;
  const [row] = await tx.insert(outboxEvents).values({ type: e.type, payload: e, availableAt }).returning({ id: outboxEvents.id });
  if (!row) throw new Error('insert returned nothing');
  unitOfWork.getStore()?.push({ id: row.id, type: e.type });
  return row.id;
}

/**
 * A database transaction whose emitted events are dispatched by this process right after
 * the commit. A failure to dispatch is not the caller's failure: the change committed,
 * and the events stay in the outbox for the dispatcher to retry.
 */
export async function transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
  const emitted: Emitted[] = [];
  const result = await unitOfWork.run(emitted, () => db().transaction(fn));
  if (emitted.length === 0) return result;
  crashPoint('after-commit', emitted);
  try {
    await dispatchEvents({ ids: emitted.map((e) => e.id), firstAttempt: true });
  } catch (error) {
    console.error('[outbox] dispatching after commit failed; the dispatcher will retry:', error instanceof Error ? error.message : error);
  }
  return result;
}

/**
 * Fault injection for the fault suite: `FLOTILLA_CRASH_AT=after-commit:<event type>` kills
 * this process (SIGKILL, as `kill -9` would) right after the commit that wrote such an
 * event and before anything was dispatched. Read on each call so a test can set it late.
 */
function crashPoint(point: 'after-commit', emitted: Emitted[]) {
  const spec = process.env.FLOTILLA_CRASH_AT;
  if (!spec?.startsWith(`${point}:`)) return;
  const type = spec.slice(point.length + 1);
  if (emitted.some((e) => e.type === type)) {
    console.error(`[outbox] FLOTILLA_CRASH_AT=${spec}: killing this process after the commit`);
    process.kill(process.pid, 'SIGKILL');
  }
}
