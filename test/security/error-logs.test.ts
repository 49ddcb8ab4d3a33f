// Finding 7, its logging half: an unexpected error's log line never carries the SQL
// parameters or the request body. A real query fails in PostgreSQL (a unique violation,
// whose postgres.js error keeps the parameters and whose detail quotes the row) inside
// the real route() and action() wrappers; what reaches console.error is read back.
import { randomBytes } from 'node:crypto';
import { format } from 'node:util';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { action } from '@/lib/api/action';
import { route } from '@/lib/api/route';
import { db } from '@/lib/db/client';
import { users } from '@/lib/db/schema';
import { call, makeOrg, type OrgFixture } from '../fixtures';

let fx: OrgFixture;
beforeAll(async () => {
  fx = await makeOrg();
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** Inserts a second user with an address that exists: PostgreSQL refuses it (23505). */
async function failingInsert(secret: string, email: string) {
  await db().insert(users).values({ email, name: `name ${secret}`, passwordHash: `hash-${secret}` });
}

/** What console.error would have printed (it formats its arguments with util.format). */
function logged(spy: { mock: { calls: unknown[][] } }) {
  return spy.mock.calls.map((args) => format(...args)).join('\n');
}

describe('error logs', () => {
  it('a 500 from a route logs the message, code and stack, without SQL parameters or the body', async () => {
    const secret = `s3cret-${randomBytes(6).toString('hex')}`;
    const failing = route({ access: 'authenticated', summary: 'fails in SQL', body: z.object({ note: z.string() }) }, async ({ caller }) => {
      await failingInsert(secret, caller.user.email);
      return {};
    });
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const res = await call(failing, { method: 'POST', token: fx.members.operator.token, json: { note: `body-${secret}` } });
    expect(res.status).toBe(500);
    expect(res.json).toEqual({ error: { code: 'internal', message: 'Internal server error' } });
    const text = logged(error);
    expect(text).toContain('code=23505');
    expect(text).toContain('users_email_key');
    expect(text).toMatch(/insert into "users"/);
    expect(text).toMatch(/\n\s+at /);
    expect(text).not.toContain(secret);
    expect(text).not.toContain(fx.members.operator.email);
  });

  it('a failing server action logs the same way', async () => {
    const secret = `s3cret-${randomBytes(6).toString('hex')}`;
    const failing = action({ access: 'authenticated', input: z.object({ note: z.string() }) }, async ({ caller }) => {
      await failingInsert(secret, caller.user.email);
      return {};
    });
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const state = await failing.meta.run(fx.members.admin.caller, { note: `input-${secret}` });
    expect(state).toMatchObject({ ok: false, error: { code: 'internal' } });
    const text = logged(error);
    expect(text).toContain('code=23505');
    expect(text).not.toContain(secret);
    expect(text).not.toContain(fx.members.admin.email);
  });
});
