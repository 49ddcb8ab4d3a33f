// Outgoing webhooks end to end: the REST API creates them, emitEvent writes deliveries
// and queues jobs, a real pg-boss worker runs the `webhook-deliver` job from JOBS, and
// real HTTP receivers on 127.0.0.1 answer. Retries are shortened to a second.
import { createHmac, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { and, eq, inArray, sql } from 'drizzle-orm';
import PgBoss from 'pg-boss';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import * as webhookDeliveriesRoute from '@/app/api/v1/webhooks/[id]/deliveries/route';
import * as webhookById from '@/app/api/v1/webhooks/[id]/route';
import * as webhookTest from '@/app/api/v1/webhooks/[id]/test/route';
import * as webhooksRoute from '@/app/api/v1/webhooks/route';
import { seal } from '@/lib/crypto/secret-box';
import { db } from '@/lib/db/client';
import { auditEvents, webhookDeliveries, webhooks } from '@/lib/db/schema';
import { JOBS } from '@/lib/jobs/definitions';
import { BOSS_SCHEMA, queue } from '@/lib/jobs/queue';
import { registerJobs } from '@/lib/jobs/register';
import { configureDelivery, DELIVER_JOB, sweepDeliveries } from '@/lib/notify/deliver';
import { emitEvent, type TNotifyEvent } from '@/lib/notify/emit';
import { verifySignature } from '@/lib/notify/sign';
import { call, makeOrg, type OrgFixture } from './fixtures';

type Received = { headers: http.IncomingHttpHeaders; body: string };
type Receiver = { url: string; received: Received[]; close: () => Promise<void> };

/** A real HTTP endpoint; `answer(n)` gives the status of the n-th request (1-based). */
async function receiver(answer: (n: number) => number = () => 200): Promise<Receiver> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const status = answer(received.length);
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status >= 300 ? 'receiver says no' : 'ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/flotilla?token=path-secret`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let fx: OrgFixture;
let other: OrgFixture;
let worker: PgBoss;
const receivers: Receiver[] = [];

async function newReceiver(answer?: (n: number) => number) {
  const r = await receiver(answer);
  receivers.push(r);
  return r;
}

async function createHook(body: Record<string, unknown>, org: OrgFixture = fx) {
  const res = await call(webhooksRoute.POST, { method: 'POST', token: org.members.admin.token, json: { name: `hook ${randomUUID().slice(0, 6)}`, ...body } });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return res.json as { id: string; secret: string };
}

function event(type: string, extra: Partial<TNotifyEvent> = {}): TNotifyEvent {
  const deploymentId = randomUUID();
  return {
    type,
    key: `${deploymentId}:${type}`,
    summary: `Deployment ${deploymentId.slice(0, 8)}: ${type}`,
    url: `http://localhost:3000/deployments/${deploymentId}`,
    data: { deploymentId, hosts: 3 },
    ...extra,
  };
}

async function deliveriesOf(webhookId: string) {
  return db().select().from(webhookDeliveries).where(eq(webhookDeliveries.webhookId, webhookId)).orderBy(webhookDeliveries.createdAt);
}

/** Waits until the webhook has `count` deliveries and none of them is pending. */
async function settled(webhookId: string, count = 1) {
  return vi.waitFor(
    async () => {
      const rows = await deliveriesOf(webhookId);
      expect(rows).toHaveLength(count);
      expect(rows.map((r) => r.status)).not.toContain('pending');
      return rows;
    },
    { timeout: 20_000, interval: 100 },
  );
}

beforeAll(async () => {
  // Three attempts a second apart instead of six over an hour.
  configureDelivery({ attempts: 3, retryDelaySeconds: 1, backoff: false, timeoutMs: 3_000 });
  // A worker like worker.ts's, for this one queue, polling faster.
  worker = new PgBoss({ connectionString: process.env.DATABASE_URL, schema: BOSS_SCHEMA, max: 2, application_name: 'webhooks-test-worker' });
  worker.on('error', (error) => console.error('[test worker]', error));
  await worker.start();
  await registerJobs(worker, JOBS.filter((j) => j.spec === DELIVER_JOB), { pollingIntervalSeconds: 0.5 });
  fx = await makeOrg();
  other = await makeOrg();
});

// Each test starts with no webhooks, so an event reaches only the ones it made.
afterEach(async () => {
  await db().delete(webhooks).where(inArray(webhooks.orgId, [fx.org.id, other.org.id]));
});

afterAll(async () => {
  await worker?.stop({ graceful: true, wait: true, timeout: 5_000 });
  await (await queue()).stop({ graceful: true, wait: true, timeout: 5_000 });
  await Promise.all(receivers.map((r) => r.close()));
  configureDelivery('defaults');
});

describe('webhook deliveries', () => {
  it('POST a generic JSON body whose signature verifies with the secret', async () => {
    const r = await newReceiver();
    const hook = await createHook({ url: r.url, format: 'generic' });
    expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    const e = event('deployment.finished');
    await emitEvent(fx.org.id, e);
    const [delivery] = await settled(hook.id);
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 1, lastStatusCode: 200, event: 'deployment.finished', eventKey: e.key });
    expect(delivery?.deliveredAt).toBeInstanceOf(Date);

    expect(r.received).toHaveLength(1);
    const { headers, body } = r.received[0] as Received;
    expect(headers['content-type']).toBe('application/json');
    expect(headers['user-agent']).toBe('Flotilla-Webhooks');
    expect(headers['x-flotilla-event']).toBe('deployment.finished');
    expect(headers['x-flotilla-delivery']).toBe(delivery?.id);
    const timestamp = String(headers['x-flotilla-timestamp']);
    expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(60);
    // Checked here the way a receiver in any language would, not with our own helper.
    const expected = `sha256=${createHmac('sha256', hook.secret).update(`${timestamp}.${body}`).digest('hex')}`;
    expect(headers['x-flotilla-signature']).toBe(expected);
    expect(JSON.parse(body)).toEqual({
      id: delivery?.id,
      event: 'deployment.finished',
      createdAt: delivery?.createdAt.toISOString(),
      summary: e.summary,
      url: e.url,
      data: e.data,
    });

    // The documented receiver check: right secret and fresh timestamp only.
    const signature = String(headers['x-flotilla-signature']);
    expect(verifySignature({ secret: hook.secret, body, timestamp, signature })).toBe(true);
    expect(verifySignature({ secret: hook.secret, body: body.replace('finished', 'halted'), timestamp, signature })).toBe(false);
    expect(verifySignature({ secret: 'whsec_wrong', body, timestamp, signature })).toBe(false);
    expect(verifySignature({ secret: hook.secret, body, timestamp, signature, now: Number(timestamp) + 301 })).toBe(false);

    // The secret is stored sealed, and not in the audit log.
    const [row] = await db().select().from(webhooks).where(eq(webhooks.id, hook.id));
    expect(row?.secretEnc).not.toContain(hook.secret);
    const audit = await db().select().from(auditEvents).where(eq(auditEvents.objectId, hook.id));
    expect(audit.map((a) => a.action)).toEqual(['webhook.create']);
    expect(JSON.stringify(audit)).not.toContain(hook.secret);
    expect(JSON.stringify(audit)).not.toContain('path-secret');
  });

  it('POST {text} to a Slack-compatible webhook, signed all the same', async () => {
    const r = await newReceiver();
    const hook = await createHook({ url: r.url, format: 'slack', secret: 'my-own-secret-0123456789' });
    expect(hook.secret).toBe('my-own-secret-0123456789');
    const e = event('deployment.halted', { summary: 'Deployment abc halted: 2 of 5 canaries failed' });
    await emitEvent(fx.org.id, e);
    const [delivery] = await settled(hook.id);
    expect(delivery?.status).toBe('delivered');
    const { headers, body } = r.received[0] as Received;
    expect(JSON.parse(body)).toEqual({ text: `Deployment abc halted: 2 of 5 canaries failed ${e.url}` });
    expect(verifySignature({ secret: hook.secret, body, timestamp: String(headers['x-flotilla-timestamp']), signature: String(headers['x-flotilla-signature']) })).toBe(
      true,
    );
  });

  it('retries a receiver that answers 500 twice, and ends delivered on the third attempt', async () => {
    const r = await newReceiver((n) => (n <= 2 ? 500 : 200));
    const hook = await createHook({ url: r.url });
    await emitEvent(fx.org.id, event('deployment.started'));
    const [delivery] = await settled(hook.id);
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 3, lastStatusCode: 200, lastError: null });
    expect(r.received).toHaveLength(3);
    // Every attempt is the same delivery with the same body, signed afresh.
    expect(new Set(r.received.map((x) => x.body)).size).toBe(1);
    expect(new Set(r.received.map((x) => x.headers['x-flotilla-delivery'])).size).toBe(1);
  });

  it('gives up after the last attempt: failed, with the last status and error, and logs no secret', async () => {
    const warn = vi.spyOn(console, 'warn');
    try {
      const r = await newReceiver(() => 500);
      const hook = await createHook({ url: r.url });
      await emitEvent(fx.org.id, event('deployment.finished'));
      const [delivery] = await settled(hook.id);
      expect(delivery).toMatchObject({ status: 'failed', attempts: 3, lastStatusCode: 500, lastError: 'HTTP 500: receiver says no', deliveredAt: null });
      expect(r.received).toHaveLength(3);
      const logged = warn.mock.calls.flat().join('\n');
      expect(logged).toContain(delivery?.id);
      expect(logged).not.toContain('path-secret');
      expect(logged).not.toContain(hook.secret);
    } finally {
      warn.mockRestore();
    }
  });

  it('gives up on an unreachable receiver, with the connection error', async () => {
    const r = await receiver();
    await r.close(); // Nothing listens on that port any more.
    const hook = await createHook({ url: r.url });
    await emitEvent(fx.org.id, event('deployment.finished'));
    const [delivery] = await settled(hook.id);
    expect(delivery).toMatchObject({ status: 'failed', attempts: 3, lastStatusCode: null });
    expect(delivery?.lastError).toMatch(/ECONNREFUSED/);
  });

  it('delivers the same key once per webhook', async () => {
    const r = await newReceiver();
    const hook = await createHook({ url: r.url });
    const e = event('deployment.finished');
    await emitEvent(fx.org.id, e);
    await emitEvent(fx.org.id, { ...e, summary: 'said again' });
    await settled(hook.id, 1);
    await emitEvent(fx.org.id, e);
    expect(await deliveriesOf(hook.id)).toHaveLength(1);
    expect(r.received).toHaveLength(1);
    expect(JSON.parse((r.received[0] as Received).body).summary).toBe(e.summary);
  });

  it("never sends one organisation's events to another's webhooks", async () => {
    const mine = await newReceiver();
    const theirs = await newReceiver();
    const myHook = await createHook({ url: mine.url });
    const theirHook = await createHook({ url: theirs.url }, other);
    await emitEvent(fx.org.id, event('deployment.finished'));
    await settled(myHook.id);
    expect(await deliveriesOf(theirHook.id)).toHaveLength(0);
    expect(theirs.received).toHaveLength(0);
  });

  it('sends only the events a webhook subscribed to', async () => {
    const r = await newReceiver();
    const hook = await createHook({ url: r.url, events: ['deployment.halted'] });
    await emitEvent(fx.org.id, event('deployment.started'));
    await emitEvent(fx.org.id, event('deployment.finished'));
    expect(await deliveriesOf(hook.id)).toHaveLength(0);
    await emitEvent(fx.org.id, event('deployment.halted'));
    const [delivery] = await settled(hook.id);
    expect(delivery?.event).toBe('deployment.halted');
    expect(r.received.map((x) => x.headers['x-flotilla-event'])).toEqual(['deployment.halted']);
  });

  it('a misconfigured webhook does not make emitEvent throw or stop the others', async () => {
    const r = await newReceiver();
    const good = await createHook({ url: r.url });
    const [badUrl] = await db()
      .insert(webhooks)
      .values({ orgId: fx.org.id, name: 'not http', url: 'ftp://files.example.com/x', secretEnc: seal('whsec_x') })
      .returning();
    // Sealed under another AUTH_SECRET, as after a restore onto a server with a new one.
    const authSecret = process.env.AUTH_SECRET;
    process.env.AUTH_SECRET = 'another-secret-another-secret-another-1234';
    const sealedElsewhere = seal('whsec_from_elsewhere');
    process.env.AUTH_SECRET = authSecret;
    const [badSecret] = await db()
      .insert(webhooks)
      .values({ orgId: fx.org.id, name: 'other key', url: r.url, secretEnc: sealedElsewhere })
      .returning();
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      await expect(emitEvent(fx.org.id, event('deployment.finished'))).resolves.toBeUndefined();
      await settled(good.id);
      const [broken] = await settled(badSecret?.id as string);
      expect(broken).toMatchObject({ status: 'failed', attempts: 1, lastStatusCode: null });
      expect(broken?.lastError).toMatch(/AUTH_SECRET/);
      expect(await deliveriesOf(badUrl?.id as string)).toHaveLength(0);
      expect(error.mock.calls.flat().join('\n')).toContain(badUrl?.id);
      expect(r.received).toHaveLength(1);
    } finally {
      error.mockRestore();
    }
  });

  it('queues again a delivery whose job was never sent', async () => {
    const r = await newReceiver();
    const hook = await createHook({ url: r.url });
    // As if emitEvent had written the row and the process died before queuing its job.
    const [row] = await db()
      .insert(webhookDeliveries)
      .values({ webhookId: hook.id, event: 'deployment.finished', eventKey: 'lost', payload: { summary: 'lost and found', data: {} }, createdAt: new Date(Date.now() - 10 * 60_000) })
      .returning();
    expect((await sweepDeliveries()).requeued).toBeGreaterThanOrEqual(1);
    const [delivery] = await settled(hook.id);
    expect(delivery).toMatchObject({ id: row?.id, status: 'delivered', attempts: 1 });
    expect(JSON.parse((r.received[0] as Received).body)).toMatchObject({ summary: 'lost and found', url: null });
  });
});

describe('webhook management API', () => {
  it('lists without secrets, sends a test event whatever the subscription, deletes with its deliveries', async () => {
    const r = await newReceiver();
    const admin = fx.members.admin.token;
    const hook = await createHook({ url: r.url, name: 'ops chat', events: ['deployment.halted'] });
    const list = await call(webhooksRoute.GET, { token: admin });
    expect(list.status).toBe(200);
    const listed = (list.json.webhooks as { id: string }[]).find((w) => w.id === hook.id);
    expect(listed).toMatchObject({ name: 'ops chat', url: r.url, format: 'generic', events: ['deployment.halted'], active: true, lastDelivery: null });
    expect(JSON.stringify(list.json)).not.toContain(hook.secret);

    const test = await call(webhookTest.POST, { method: 'POST', token: admin, params: { id: hook.id } });
    expect(test.status).toBe(202);
    const [delivery] = await settled(hook.id);
    expect(delivery).toMatchObject({ id: test.json.deliveryId, event: 'webhook.test', status: 'delivered' });
    expect(r.received[0]?.headers['x-flotilla-event']).toBe('webhook.test');

    const log = await call(webhookDeliveriesRoute.GET, { token: admin, params: { id: hook.id } });
    expect(log.status).toBe(200);
    expect(log.json.deliveries).toMatchObject([{ id: test.json.deliveryId, webhookName: 'ops chat', status: 'delivered', attempts: 1, lastStatusCode: 200 }]);
    const relisted = await call(webhooksRoute.GET, { token: admin });
    expect((relisted.json.webhooks as { id: string; lastDelivery: unknown }[]).find((w) => w.id === hook.id)?.lastDelivery).toMatchObject({
      status: 'delivered',
      statusCode: 200,
    });

    // Another organisation's admin cannot see, test or delete it.
    const otherAdmin = other.members.admin.token;
    expect((await call(webhookTest.POST, { method: 'POST', token: otherAdmin, params: { id: hook.id } })).status).toBe(404);
    expect((await call(webhookDeliveriesRoute.GET, { token: otherAdmin, params: { id: hook.id } })).status).toBe(404);
    expect((await call(webhookById.DELETE, { method: 'DELETE', token: otherAdmin, params: { id: hook.id } })).status).toBe(404);
    expect((await call(webhooksRoute.GET, { token: otherAdmin })).json.webhooks).toEqual([]);

    const deleted = await call(webhookById.DELETE, { method: 'DELETE', token: admin, params: { id: hook.id } });
    expect(deleted.status).toBe(200);
    expect(await deliveriesOf(hook.id)).toHaveLength(0);
    const audit = await db()
      .select({ action: auditEvents.action })
      .from(auditEvents)
      .where(and(eq(auditEvents.objectId, hook.id), eq(auditEvents.orgId, fx.org.id)))
      .orderBy(auditEvents.id);
    expect(audit.map((a) => a.action)).toEqual(['webhook.create', 'webhook.test', 'webhook.delete']);
  });

  it('refuses URLs that are not http(s), and unknown events', async () => {
    const admin = fx.members.admin.token;
    for (const url of ['ftp://example.com/x', 'file:///etc/passwd', 'javascript:alert(1)', 'not a url', 'https://user:pw@example.com/']) {
      const res = await call(webhooksRoute.POST, { method: 'POST', token: admin, json: { name: 'bad', url } });
      expect(res.status, url).toBe(400);
      expect(res.json.error.details.issues[0].path).toBe('url');
    }
    const unknown = await call(webhooksRoute.POST, { method: 'POST', token: admin, json: { name: 'bad', url: 'https://example.com/', events: ['deployment.exploded'] } });
    expect(unknown.status).toBe(400);
  });

  it('is for settings.manage only: operators, requesters and viewers get 403', async () => {
    const before = await db().select({ n: sql<number>`count(*)::int` }).from(webhooks);
    for (const role of ['operator', 'requester', 'viewer'] as const) {
      const token = fx.members[role].token;
      const created = await call(webhooksRoute.POST, { method: 'POST', token, json: { name: 'sneaky', url: 'https://example.com/' } });
      expect(created.status, role).toBe(403);
      expect((await call(webhooksRoute.GET, { token })).status, role).toBe(403);
    }
    const after = await db().select({ n: sql<number>`count(*)::int` }).from(webhooks);
    expect(after[0]?.n).toBe(before[0]?.n);
  });
});
