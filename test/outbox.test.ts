// The transactional outbox (lib/events): effects of a committed change survive the
// process that made it. A real child process commits a change and is killed (SIGKILL)
// right after the commit, before any effect ran; the dispatcher then delivers every
// effect, once, however many dispatchers run.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import * as webhooksRoute from '@/app/api/v1/webhooks/route';
import { db } from '@/lib/db/client';
import { deployments, hosts, notifications, outboxEvents, requests, webhookDeliveries } from '@/lib/db/schema';
import { dispatchEvents, startOutboxDispatcher } from '@/lib/events/dispatch';
import { BUILD_JOB } from '@/lib/builds/build-job';
import { emit } from '@/lib/events/outbox';
import { queue } from '@/lib/jobs/queue';
import { call, makeOrg, type OrgFixture } from './fixtures';

const root = path.resolve(import.meta.dirname, '..');
let fx: OrgFixture;

/** Runs test/crash-child.ts with the crash point set; resolves with how it ended. */
function crashChild(crashAt: string, ...args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/crash-child.ts', ...args], {
      cwd: root,
      env: { ...process.env, FLOTILLA_CRASH_AT: crashAt },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code, signal) => resolve({ code, signal, out }));
  });
}

async function until<T>(what: string, check: () => Promise<T | null | undefined | false>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  fx = await makeOrg();
});

describe('the transactional outbox', () => {
  it('a request denied by a process killed right after the commit still reaches the requester and the webhook, once each', async () => {
    const [host] = await db().insert(hosts).values({ orgId: fx.org.id, name: 'outbox-laptop' }).returning();
    const [request] = await db()
      .insert(requests)
      .values({ orgId: fx.org.id, hostId: host!.id, requesterId: fx.members.requester.id, kind: 'install', payload: { package: 'hello' }, reason: 'for the demo' })
      .returning();
    const hook = await call(webhooksRoute.POST, { method: 'POST', token: fx.members.admin.token, json: { name: 'outbox hook', url: 'http://127.0.0.1:9/hook', events: ['request.denied'] } });
    expect(hook.status, JSON.stringify(hook.json)).toBe(201);

    const ended = await crashChild('after-commit:request.notice', 'deny-request', request!.id, fx.members.operator.id);
    expect(ended.signal, ended.out).toBe('SIGKILL');
    expect(ended.out).not.toContain('DONE');

    // The change committed; none of its effects ran.
    const [after] = await db().select({ status: requests.status }).from(requests).where(eq(requests.id, request!.id));
    expect(after?.status).toBe('denied');
    const key = `${request!.id}:denied`;
    const noticesFor = () => db().select().from(notifications).where(and(eq(notifications.userId, fx.members.requester.id), eq(notifications.eventKey, key)));
    const deliveriesFor = () => db().select().from(webhookDeliveries).where(eq(webhookDeliveries.webhookId, (hook.json as { id: string }).id));
    expect(await noticesFor()).toHaveLength(0);
    expect(await deliveriesFor()).toHaveLength(0);
    const [event] = await db().select().from(outboxEvents).where(sql`${outboxEvents.payload}->'notice'->>'key' = ${key}`);
    expect(event?.deliveredAt).toBeNull();

    // Three dispatchers at once, as three worker processes would be.
    const dispatchers = [1, 2, 3].map(() => startOutboxDispatcher({ intervalMs: 100, log: () => {} }));
    try {
      await until('the dead process’s event to be delivered', async () => {
        const [row] = await db().select().from(outboxEvents).where(eq(outboxEvents.id, event!.id));
        return row?.deliveredAt ? row : null;
      });
    } finally {
      await Promise.all(dispatchers.map((d) => d.stop()));
    }
    expect(await noticesFor()).toHaveLength(1);
    expect(await deliveriesFor()).toHaveLength(1);
    const [delivered] = await db().select().from(outboxEvents).where(eq(outboxEvents.id, event!.id));
    expect(delivered).toMatchObject({ attempts: 1, lastError: null });
    expect([...delivered!.done].sort()).toEqual(['people', 'request-webhooks']);
  });

  it('a cancelled deployment whose process died after the commit still wakes the rollout and tells the webhooks', async () => {
    const [deployment] = await db().insert(deployments).values({ orgId: fx.org.id, strategy: {}, source: 'api', status: 'rolling' }).returning();
    const hook = await call(webhooksRoute.POST, { method: 'POST', token: fx.members.admin.token, json: { name: 'deployments hook', url: 'http://127.0.0.1:9/deployments', events: ['deployment.finished'] } });
    const ended = await crashChild('after-commit:deployment.finished', 'cancel-deployment', deployment!.id, fx.members.operator.id);
    expect(ended.signal, ended.out).toBe('SIGKILL');
    const [after] = await db().select({ status: deployments.status }).from(deployments).where(eq(deployments.id, deployment!.id));
    expect(after?.status).toBe('cancelled');
    const events = await db().select().from(outboxEvents).where(sql`${outboxEvents.payload}->>'deploymentId' = ${deployment!.id}`);
    expect(events.map((e) => e.type).sort()).toEqual(['deployment.changed', 'deployment.finished']);
    expect(events.every((e) => e.deliveredAt === null)).toBe(true);

    const dispatcher = startOutboxDispatcher({ intervalMs: 100, log: () => {} });
    try {
      await until('both events to be delivered', async () => {
        const rows = await db().select().from(outboxEvents).where(inArray(outboxEvents.id, events.map((e) => e.id)));
        return rows.every((r) => r.deliveredAt) ? rows : null;
      });
    } finally {
      await dispatcher.stop();
    }
    const deliveries = await db().select().from(webhookDeliveries).where(eq(webhookDeliveries.webhookId, (hook.json as { id: string }).id));
    expect(deliveries.map((d) => d.eventKey)).toEqual([`${deployment!.id}:finished`]);
  });

  it('a build whose process died right after writing it still gets its job, once', async () => {
    await queue(); // pg-boss's tables exist
    const buildId = crypto.randomUUID();
    // What requestBuild's transaction leaves when its process dies before dispatching: the event, no job.
    const id = await db().transaction((tx) => emit(tx, { type: 'build.queued', buildId }));
    const jobs = () => db().execute(sql`select id from pgboss.job where name = ${BUILD_JOB.queue} and id = ${buildId}::uuid`);
    expect([...(await jobs())]).toHaveLength(0);
    await db().update(outboxEvents).set({ availableAt: sql`now()` }).where(eq(outboxEvents.id, id));
    await Promise.all([dispatchEvents(), dispatchEvents()]);
    // Delivered again (an expired lease): the job id is the build id, so still one job.
    await db().update(outboxEvents).set({ deliveredAt: null, done: [], availableAt: sql`now()` }).where(eq(outboxEvents.id, id));
    await dispatchEvents();
    expect([...(await jobs())]).toHaveLength(1);
  });

  it('many dispatchers racing over many events deliver each exactly once', async () => {
    const keys = Array.from({ length: 40 }, (_, i) => `race-${i}-${crypto.randomUUID()}`);
    const ids = await db().transaction(async (tx) => {
      const written: string[] = [];
      for (const key of keys) {
        written.push(await emit(tx, { type: 'request.notice', orgId: fx.org.id, to: [fx.members.viewer.id], notice: { kind: 'request.comment', key, title: `note ${key}` } }));
      }
      return written;
    });
    // As if their committer had died long ago: due now.
    await db().update(outboxEvents).set({ availableAt: sql`now()` }).where(inArray(outboxEvents.id, ids));
    let claimed = 0;
    for (let round = 0; round < 10 && claimed < ids.length; round++) {
      const counts = await Promise.all([1, 2, 3, 4].map(() => dispatchEvents({ limit: 7 })));
      claimed += counts.reduce((a, b) => a + b, 0);
    }
    expect(claimed).toBe(ids.length);
    const rows = await db().select().from(outboxEvents).where(inArray(outboxEvents.id, ids));
    expect(rows.every((r) => r.deliveredAt && r.attempts === 1)).toBe(true);
    const notes = await db().select().from(notifications).where(and(eq(notifications.userId, fx.members.viewer.id), inArray(notifications.eventKey, keys)));
    expect(notes).toHaveLength(keys.length);
  });

  it('an event that does not parse is set aside with its error and does not hold the others back', async () => {
    const [bad] = await db().insert(outboxEvents).values({ type: 'request.notice', payload: { type: 'request.notice', orgId: 'nope' }, availableAt: sql`now()` }).returning();
    const good = await db().transaction((tx) => emit(tx, { type: 'deployment.changed', deploymentId: crypto.randomUUID() }));
    await db().update(outboxEvents).set({ availableAt: sql`now()` }).where(eq(outboxEvents.id, good));
    await dispatchEvents();
    const [badRow] = await db().select().from(outboxEvents).where(eq(outboxEvents.id, bad!.id));
    const [goodRow] = await db().select().from(outboxEvents).where(eq(outboxEvents.id, good));
    expect(badRow?.deliveredAt).toBeNull();
    expect(badRow?.lastError).toMatch(/does not parse/);
    expect(goodRow?.deliveredAt).not.toBeNull();
  });
});
