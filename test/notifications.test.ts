// Notifications for people end to end: notifyPeople writes rows and queues e-mail jobs,
// a real pg-boss worker runs the `notification-email` job from JOBS, and a real SMTP
// server (smtp-server, from nodemailer's authors) on 127.0.0.1 receives the mail. The
// in-app list and the REST routes are called as each person.
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { and, eq, inArray } from 'drizzle-orm';
import { NextRequest } from 'next/server';
import PgBoss from 'pg-boss';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import * as readRoute from '@/app/api/v1/notifications/read/route';
import * as listRoute from '@/app/api/v1/notifications/route';
import { db } from '@/lib/db/client';
import { memberships, notifications, users } from '@/lib/db/schema';
import { EnvError, parseEnv, resetEnvCache } from '@/lib/env';
import { JOBS } from '@/lib/jobs/definitions';
import { BOSS_SCHEMA, queue } from '@/lib/jobs/queue';
import { registerJobs } from '@/lib/jobs/register';
import { sendNotificationEmail } from '@/lib/notify/email';
import { EMAIL_JOB, configureEmail } from '@/lib/notify/email-queue';
import { renderNotificationEmail } from '@/lib/notify/email-render';
import { listNotifications, markRead, unreadCount } from '@/lib/notify/inbox';
import { notifyPeople, usersWithPermission, type TPersonNotice } from '@/lib/notify/people';
import { call, makeOrg, type OrgFixture } from './fixtures';

// ---------------------------------------------------------------- a real SMTP sink

type Mail = { from: string; to: string[]; raw: string; headers: Record<string, string>; body: string };

const SMTP_USER = 'flotilla';
const SMTP_PASS = 'p@ss:word/with=odd&chars';

class Sink {
  mails: Mail[] = [];
  /** Answers for DATA, in order; once used up, every message is accepted. */
  dataAnswers: (number | 'ok')[] = [];
  /** Recipients refused with 550 at RCPT TO. */
  refuse = new Set<string>();
  logins: string[] = [];
  server = new SMTPServer({
    logger: false,
    // Plain SMTP on loopback: no STARTTLS to upgrade to, so the AUTH goes in the clear.
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    onAuth: (auth, _session, cb) => {
      this.logins.push(`${auth.username}:${auth.password ?? ''}`);
      if (auth.username === SMTP_USER && auth.password === SMTP_PASS) return cb(null, { user: auth.username });
      return cb(smtpError('Bad credentials', 535));
    },
    onRcptTo: (address: SMTPServerAddress, _session, cb) => {
      if (this.refuse.has(address.address)) return cb(smtpError('No such mailbox', 550));
      return cb();
    },
    onData: (stream, session, cb) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const answer = this.dataAnswers.shift() ?? 'ok';
        if (answer !== 'ok') return cb(smtpError('Try again later', answer));
        const raw = Buffer.concat(chunks).toString('utf8');
        const { headers, body } = parseMessage(raw);
        this.mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          headers,
          body,
        });
        cb();
      });
    },
  });
  port = 0;

  async start() {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.server.address() as AddressInfo).port;
  }

  to(address: string) {
    return this.mails.filter((m) => m.to.includes(address));
  }

  close() {
    return new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function smtpError(message: string, responseCode: number) {
  return Object.assign(new Error(message), { responseCode });
}

/** Headers (unfolded, lower-cased names) and the body with quoted-printable soft breaks and escapes undone. */
function parseMessage(raw: string) {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  const body = raw
    .slice(split + 4)
    .replace(/=\r\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return { headers, body };
}

// ---------------------------------------------------------------- set-up

let fx: OrgFixture;
let other: OrgFixture;
let sink: Sink;
let worker: PgBoss;
const PUBLIC_URL = 'https://flotilla.example.test';

function smtpOn() {
  process.env.FLOTILLA_SMTP_URL = `smtp://${SMTP_USER}:${encodeURIComponent(SMTP_PASS)}@127.0.0.1:${sink.port}`;
  process.env.FLOTILLA_SMTP_FROM = 'Flotilla <flotilla@example.test>';
  resetEnvCache();
}

function smtpOff() {
  delete process.env.FLOTILLA_SMTP_URL;
  delete process.env.FLOTILLA_SMTP_FROM;
  resetEnvCache();
}

function notice(extra: Partial<TPersonNotice> = {}): TPersonNotice {
  const requestId = randomUUID();
  return {
    kind: 'request.live',
    key: `${requestId}:live`,
    title: `hello is live on laptop-${requestId.slice(0, 4)}`,
    body: 'Approved by Olivia Operator.\nDeployed to 1 host.',
    url: `/requests/${requestId}`,
    ...extra,
  };
}

async function rowsFor(key: string) {
  return db().select().from(notifications).where(eq(notifications.eventKey, key)).orderBy(notifications.createdAt);
}

/** Waits until every notification with this key has been e-mailed. */
async function emailed(key: string, count: number) {
  return vi.waitFor(
    async () => {
      const rows = await rowsFor(key);
      expect(rows).toHaveLength(count);
      expect(rows.every((r) => r.emailedAt)).toBe(true);
      return rows;
    },
    { timeout: 20_000, interval: 100 },
  );
}

async function jobOf(notificationId: string) {
  return (await queue()).getJobById(EMAIL_JOB.queue, notificationId);
}

beforeAll(async () => {
  process.env.FLOTILLA_URL = PUBLIC_URL;
  configureEmail({ attempts: 3, retryDelaySeconds: 1, backoff: false });
  sink = new Sink();
  await sink.start();
  // A worker like worker.ts's, for this one queue, polling faster.
  worker = new PgBoss({ connectionString: process.env.DATABASE_URL, schema: BOSS_SCHEMA, max: 2, application_name: 'notifications-test-worker' });
  worker.on('error', (error) => console.error('[test worker]', error));
  await worker.start();
  await registerJobs(worker, JOBS.filter((j) => j.spec === EMAIL_JOB), { pollingIntervalSeconds: 0.5 });
  fx = await makeOrg();
  other = await makeOrg();
});

beforeEach(() => {
  smtpOn();
  sink.dataAnswers = [];
  sink.refuse.clear();
});

afterAll(async () => {
  await worker?.stop({ graceful: true, wait: true, timeout: 5_000 });
  await (await queue()).stop({ graceful: true, wait: true, timeout: 5_000 });
  await sink?.close();
  configureEmail('defaults');
  smtpOff();
  delete process.env.FLOTILLA_URL;
  resetEnvCache();
});

// ---------------------------------------------------------------- notifyPeople and e-mail

describe('notifyPeople', () => {
  it('writes one row per person and e-mails each of them with the link', async () => {
    const n = notice();
    const people = [fx.members.admin, fx.members.requester];
    await notifyPeople(fx.org.id, people.map((p) => p.id), n);
    const rows = await emailed(n.key, 2);
    expect(rows.map((r) => r.userId).sort()).toEqual(people.map((p) => p.id).sort());
    for (const r of rows) expect(r).toMatchObject({ orgId: fx.org.id, kind: 'request.live', title: n.title, body: n.body, url: n.url, readAt: null });

    for (const person of people) {
      const mails = sink.to(person.email);
      expect(mails).toHaveLength(1);
      const mail = mails[0] as Mail;
      expect(mail.from).toBe('flotilla@example.test');
      expect(mail.headers.to).toContain(person.email);
      expect(mail.headers.from).toBe('Flotilla <flotilla@example.test>');
      expect(mail.headers.subject).toBe(n.title);
      expect(mail.headers['auto-submitted']).toBe('auto-generated');
      expect(mail.headers['content-type']).toMatch(/^multipart\/alternative/);
      // Both parts carry the link to the request on the public URL.
      const link = `${PUBLIC_URL}${n.url}`;
      expect(mail.body).toContain(`Open in Flotilla: ${link}`);
      expect(mail.body).toContain(`href="${link}"`);
      expect(mail.body).toContain('Deployed to 1 host.');
    }
    // The job logged in with the URL's user and password.
    expect(sink.logins).toContain(`${SMTP_USER}:${SMTP_PASS}`);
  });

  it('notifies each person once per key, however often it is called', async () => {
    const n = notice();
    const person = fx.members.operator;
    await notifyPeople(fx.org.id, [person.id, person.id], n);
    await emailed(n.key, 1);
    await notifyPeople(fx.org.id, [person.id], { ...n, title: 'a second call with the same key' });
    const rows = await rowsFor(n.key);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.title).toBe(n.title);
    expect(sink.to(person.email).filter((m) => m.headers.subject === n.title)).toHaveLength(1);
    expect(sink.mails.some((m) => m.headers.subject === 'a second call with the same key')).toBe(false);
  });

  it('ignores people who are not members of the organisation, and ids that are not ids', async () => {
    const n = notice();
    const outsider = other.members.admin;
    await notifyPeople(fx.org.id, [outsider.id, randomUUID(), 'not-a-uuid', fx.members.viewer.id], n);
    const rows = await emailed(n.key, 1);
    expect(rows[0]?.userId).toBe(fx.members.viewer.id);
    expect(sink.to(outsider.email).filter((m) => m.headers.subject === n.title)).toHaveLength(0);
    // Nobody at all: nothing happens, nothing fails.
    await expect(notifyPeople(fx.org.id, [], notice())).resolves.toBeUndefined();
  });

  it('without SMTP configured writes the rows, queues no job and throws nothing', async () => {
    smtpOff();
    const n = notice();
    await expect(notifyPeople(fx.org.id, [fx.members.admin.id, fx.members.operator.id], n)).resolves.toBeUndefined();
    const rows = await rowsFor(n.key);
    expect(rows).toHaveLength(2);
    for (const r of rows) {
      expect(r.emailedAt).toBeNull();
      expect(await jobOf(r.id)).toBeNull();
    }
    // The job itself, were one left from before e-mail was turned off, sends nothing.
    expect(await sendNotificationEmail(rows[0]?.id as string)).toBe('skipped');
  });

  it('a malformed notice is a programming error; a long or multi-line title is made one line', async () => {
    await expect(notifyPeople(fx.org.id, [fx.members.admin.id], notice({ url: 'https://evil.example/' }))).rejects.toThrow();
    await expect(notifyPeople(fx.org.id, [fx.members.admin.id], notice({ url: '//evil.example/x' }))).rejects.toThrow();
    await expect(notifyPeople(fx.org.id, [fx.members.admin.id], notice({ kind: 'Not A Kind' }))).rejects.toThrow();
    smtpOff();
    const n = notice({ title: `line one\nline two ${'x'.repeat(300)}` });
    await notifyPeople(fx.org.id, [fx.members.admin.id], n);
    const [row] = await rowsFor(n.key);
    expect(row?.title.startsWith('line one line two x')).toBe(true);
    expect(row?.title).toHaveLength(200);
  });
});

describe('the notification-email job', () => {
  it('retries through pg-boss when the server answers 4xx, and sends once it accepts', async () => {
    sink.dataAnswers = [451];
    const n = notice();
    await notifyPeople(fx.org.id, [fx.members.requester.id], n);
    const [row] = await emailed(n.key, 1);
    expect(sink.to(fx.members.requester.email).filter((m) => m.headers.subject === n.title)).toHaveLength(1);
    const job = await jobOf(row?.id as string);
    expect(job?.retryCount).toBe(1);
  });

  it('gives up at once when the server refuses the recipient (5xx), and logs no password', async () => {
    const error = vi.spyOn(console, 'error');
    try {
      smtpOff();
      const n = notice();
      await notifyPeople(fx.org.id, [fx.members.viewer.id], n);
      const [row] = await rowsFor(n.key);
      smtpOn();
      sink.refuse.add(fx.members.viewer.email);
      // Run directly: no job was queued while e-mail was off.
      expect(await sendNotificationEmail(row?.id as string)).toBe('failed');
      expect((await rowsFor(n.key))[0]?.emailedAt).toBeNull();
      const logged = error.mock.calls.flat().map(String).join('\n');
      expect(logged).toContain('550');
      expect(logged).toContain(`127.0.0.1:${sink.port}`);
      expect(logged).not.toContain(SMTP_PASS);
      expect(logged).not.toContain(encodeURIComponent(SMTP_PASS));
    } finally {
      error.mockRestore();
    }
  });

  it('sends nothing to someone who left the organisation or was disabled, and nothing twice', async () => {
    smtpOff();
    const n = notice();
    const left = fx.members.viewer;
    await notifyPeople(fx.org.id, [left.id], n);
    const [row] = await rowsFor(n.key);
    smtpOn();
    const before = sink.mails.length;
    await db().update(users).set({ disabledAt: new Date() }).where(eq(users.id, left.id));
    try {
      expect(await sendNotificationEmail(row?.id as string)).toBe('skipped');
    } finally {
      await db().update(users).set({ disabledAt: null }).where(eq(users.id, left.id));
    }
    await db().delete(memberships).where(and(eq(memberships.orgId, fx.org.id), eq(memberships.userId, left.id)));
    try {
      expect(await sendNotificationEmail(row?.id as string)).toBe('skipped');
    } finally {
      await db().insert(memberships).values({ orgId: fx.org.id, userId: left.id, role: 'viewer' });
    }
    expect(await sendNotificationEmail(row?.id as string)).toBe('sent');
    expect(await sendNotificationEmail(row?.id as string)).toBe('skipped');
    expect(sink.mails.length).toBe(before + 1);
    expect(await sendNotificationEmail(randomUUID())).toBe('skipped');
  });

  it('escapes what came from data in the HTML part', () => {
    const m = renderNotificationEmail({ title: 'pkg <script>alert(1)</script> & co', body: 'a "b"\n\nc', link: 'https://x.test/requests/1?a=1&b=2', orgName: 'O<rg>' });
    expect(m.subject).toBe('pkg <script>alert(1)</script> & co');
    expect(m.html).not.toContain('<script>');
    expect(m.html).toContain('pkg &lt;script&gt;alert(1)&lt;/script&gt; &amp; co');
    expect(m.html).toContain('href="https://x.test/requests/1?a=1&amp;b=2"');
    expect(m.html).toContain('a &quot;b&quot;');
    expect(m.text).toContain('Open in Flotilla: https://x.test/requests/1?a=1&b=2');
    expect(m.text).toContain('member of O<rg> in Flotilla');
  });
});

// ---------------------------------------------------------------- who to notify

describe('usersWithPermission', () => {
  it("'requests.review' is the organisation's operators and admins, nobody else's", async () => {
    const reviewers = await usersWithPermission(fx.org.id, 'requests.review');
    expect(reviewers.sort()).toEqual([fx.members.admin.id, fx.members.operator.id].sort());
    expect((await usersWithPermission(fx.org.id, 'requests.create')).sort()).toEqual(
      [fx.members.admin.id, fx.members.operator.id, fx.members.requester.id].sort(),
    );
    expect(await usersWithPermission(fx.org.id, 'users.manage')).toEqual([fx.members.admin.id]);
  });
});

// ---------------------------------------------------------------- the in-app list

describe('in-app notifications', () => {
  let a: OrgFixture['members']['admin'];
  let b: OrgFixture['members']['admin'];
  const keys: string[] = [];

  beforeAll(async () => {
    smtpOff();
    // A fresh organisation, so these people have only the notifications made here.
    const org = await makeOrg();
    a = org.members.requester;
    b = org.members.operator;
    for (let i = 0; i < 3; i++) {
      const n = notice({ title: `for both #${i}` });
      keys.push(n.key);
      await notifyPeople(org.org.id, [a.id, b.id], n);
    }
    // Someone who is in two organisations sees only the current one's.
    await db().insert(memberships).values({ orgId: other.org.id, userId: a.id, role: 'requester' });
    await notifyPeople(other.org.id, [a.id], notice({ title: 'in the other organisation' }));
  });

  it('lists only the caller’s own, in the caller’s organisation, newest first', async () => {
    const mine = await listNotifications(a.caller);
    expect(mine.map((n) => n.title)).toEqual(['for both #2', 'for both #1', 'for both #0']);
    const theirs = await listNotifications(b.caller);
    expect(theirs).toHaveLength(3);
    expect(mine.filter((n) => theirs.some((t) => t.id === n.id))).toEqual([]);
    expect(await unreadCount(a.caller)).toBe(3);
    // Pages: older than the newest.
    const older = await listNotifications(a.caller, { before: mine[0]?.id, limit: 1 });
    expect(older.map((n) => n.title)).toEqual(['for both #1']);
    // Another person's id as a cursor finds nothing.
    expect(await listNotifications(a.caller, { before: theirs[0]?.id })).toEqual([]);
  });

  it("marking read changes only the caller's own", async () => {
    const theirs = await listNotifications(b.caller);
    // a cannot mark b's.
    expect(await markRead(a.caller, theirs.map((n) => n.id))).toEqual({ marked: 0 });
    expect(await unreadCount(b.caller)).toBe(3);

    const mine = await listNotifications(a.caller);
    expect(await markRead(a.caller, [mine[0]?.id as string, 'junk'])).toEqual({ marked: 1 });
    expect(await unreadCount(a.caller)).toBe(2);
    expect((await listNotifications(a.caller, { unreadOnly: true })).map((n) => n.title)).toEqual(['for both #1', 'for both #0']);
    expect(await markRead(a.caller, 'all')).toEqual({ marked: 2 });
    expect(await unreadCount(a.caller)).toBe(0);
    expect(await unreadCount(b.caller)).toBe(3);
    // Marking all in one organisation leaves the other's unread.
    const [otherRow] = await db()
      .select()
      .from(notifications)
      .where(and(eq(notifications.userId, a.id), eq(notifications.orgId, other.org.id)));
    expect(otherRow?.readAt).toBeNull();
  });

  it('REST: GET lists with the unread count, ?unread=true filters, POST /read marks by id or all', async () => {
    const all = await call(listRoute.GET, { token: b.token, path: '/api/v1/notifications' });
    expect(all.status).toBe(200);
    expect(all.json.unread).toBe(3);
    expect(all.json.notifications).toHaveLength(3);
    expect(all.json.notifications[0]).toMatchObject({ title: 'for both #2', kind: 'request.live', readAt: null });
    expect(all.json.notifications[0].url).toMatch(/^\/requests\//);

    const first = all.json.notifications[0].id as string;
    const one = await call(readRoute.POST, { method: 'POST', token: b.token, json: { ids: [first] } });
    expect(one).toMatchObject({ status: 200, json: { marked: 1 } });
    const unread = await call(listRoute.GET, { token: b.token, path: '/api/v1/notifications?unread=true' });
    expect(unread.json.unread).toBe(2);
    expect(unread.json.notifications.map((n: { id: string }) => n.id)).not.toContain(first);

    // Someone else's ids are not an error, and change nothing.
    const foreign = await call(readRoute.POST, { method: 'POST', token: fx.members.admin.token, json: { ids: [unread.json.notifications[0].id] } });
    expect(foreign).toMatchObject({ status: 200, json: { marked: 0 } });
    expect(await unreadCount(b.caller)).toBe(2);

    const bad = await call(readRoute.POST, { method: 'POST', token: b.token, json: { ids: ['nope'] } });
    expect(bad.status).toBe(400);
    const all2 = await call(readRoute.POST, { method: 'POST', token: b.token, json: {} });
    expect(all2).toMatchObject({ status: 200, json: { marked: 2 } });
    const after = await call(listRoute.GET, { token: b.token, path: '/api/v1/notifications?unread=true' });
    expect(after.json).toEqual({ unread: 0, notifications: [] });
  });

  it('REST: with Accept: text/event-stream the same path streams the summary', async () => {
    const controller = new AbortController();
    const req = new NextRequest(new URL('/api/v1/notifications', 'http://localhost:3000'), {
      headers: { authorization: `Bearer ${a.token}`, accept: 'text/event-stream' },
      signal: controller.signal,
    });
    const res = await listRoute.GET(req, { params: Promise.resolve({}) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!text.includes('\n\n')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    await reader.cancel();
    expect(text).toMatch(/^event: notifications\ndata: /);
    const data = JSON.parse(text.split('\n')[1]?.slice('data: '.length) ?? '{}') as { unread: number; notifications: { title: string }[] };
    expect(data.unread).toBe(0);
    expect(data.notifications.map((n) => n.title)).toEqual(['for both #2', 'for both #1', 'for both #0']);
  });

  afterAll(async () => {
    await db()
      .delete(memberships)
      .where(and(eq(memberships.orgId, other.org.id), inArray(memberships.userId, [a.id])));
  });
});

// ---------------------------------------------------------------- configuration

describe('SMTP configuration', () => {
  it('is both-or-neither, and the URL (with its password) is never echoed', () => {
    expect(parseEnv({}).smtp).toBeNull();
    expect(parseEnv({ FLOTILLA_SMTP_URL: 'smtps://u:p@mail.example.com', FLOTILLA_SMTP_FROM: 'Ops <ops@example.com>' }).smtp).toEqual({
      url: 'smtps://u:p@mail.example.com',
      from: 'Ops <ops@example.com>',
    });
    expect(() => parseEnv({ FLOTILLA_SMTP_URL: 'smtp://mail.example.com:587' })).toThrow(/FLOTILLA_SMTP_FROM: .*set together/);
    expect(() => parseEnv({ FLOTILLA_SMTP_FROM: 'ops@example.com' })).toThrow(/FLOTILLA_SMTP_URL: .*set together/);
    expect(() => parseEnv({ FLOTILLA_SMTP_URL: 'smtp://a@b', FLOTILLA_SMTP_FROM: 'not an address' })).toThrow(/FLOTILLA_SMTP_FROM: must be an e-mail address/);
    for (const url of ['https://user:hunter2-secret@mail.example.com', 'smtp://user:hunter2-secret@bad host']) {
      try {
        parseEnv({ FLOTILLA_SMTP_URL: url, FLOTILLA_SMTP_FROM: 'ops@example.com' });
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(EnvError);
        expect(String(error)).toMatch(/FLOTILLA_SMTP_URL: must be an smtp:\/\/ or smtps:\/\/ URL/);
        expect(String(error)).not.toContain('hunter2');
      }
    }
  });
});
