// Bad input gets a clear 4xx JSON error and writes nothing.
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tokenById from '@/app/api/v1/tokens/[id]/route';
import * as tokens from '@/app/api/v1/tokens/route';
import * as users from '@/app/api/v1/users/route';
import { db } from '@/lib/db/client';
import { call, makeOrg, type OrgFixture } from './fixtures';

async function rowCounts() {
  const result = await db().execute<{ t: string; n: number }>(sql`
    select 'users' as t, count(*)::int as n from users union all
    select 'invitations', count(*)::int from invitations union all
    select 'api_tokens', count(*)::int from api_tokens union all
    select 'memberships', count(*)::int from memberships union all
    select 'audit_events', count(*)::int from audit_events`);
  return Object.fromEntries([...result].map((r) => [r.t, r.n]));
}

describe('bad input', () => {
  let fx: OrgFixture;
  beforeAll(async () => {
    fx = await makeOrg();
  });

  const cases: { name: string; status: number; code: string; run: () => Promise<{ status: number; json: Record<string, any> }> }[] = [
    {
      name: 'malformed JSON',
      status: 400,
      code: 'invalid_json',
      run: () => call(users.POST, { method: 'POST', token: fx.members.admin.token, headers: { 'content-type': 'application/json' }, body: '{"email": "a@b.c",' }),
    },
    {
      name: 'a field of the wrong type',
      status: 400,
      code: 'invalid_request',
      run: () => call(users.POST, { method: 'POST', token: fx.members.admin.token, json: { email: 'x@example.com', name: 'X', role: 42 } }),
    },
    {
      name: 'an unknown field',
      status: 400,
      code: 'invalid_request',
      run: () => call(users.POST, { method: 'POST', token: fx.members.admin.token, json: { email: 'x@example.com', name: 'X', role: 'viewer', isRoot: true } }),
    },
    {
      name: 'a body over 1 MiB',
      status: 413,
      code: 'payload_too_large',
      run: () =>
        call(users.POST, { method: 'POST', token: fx.members.admin.token, json: { email: 'x@example.com', name: 'x'.repeat(1024 * 1024 + 10), role: 'viewer' } }),
    },
    {
      name: 'a body that is not JSON',
      status: 415,
      code: 'unsupported_media_type',
      run: () => call(tokens.POST, { method: 'POST', token: fx.members.admin.token, headers: { 'content-type': 'text/plain' }, body: 'name=x' }),
    },
    {
      name: 'a malformed id in the path',
      status: 400,
      code: 'invalid_request',
      run: () => call(tokenById.DELETE, { method: 'DELETE', token: fx.members.admin.token, params: { id: 'not-a-uuid' } }),
    },
    {
      name: 'an unknown token',
      status: 401,
      code: 'unauthorized',
      run: () => call(users.POST, { method: 'POST', token: 'flt_made-up', json: { email: 'x@example.com', name: 'X', role: 'viewer' } }),
    },
    {
      name: 'a non-Bearer scheme',
      status: 401,
      code: 'unauthorized',
      run: () => call(users.POST, { method: 'POST', headers: { authorization: 'Token abc' }, json: { email: 'x@example.com', name: 'X', role: 'viewer' } }),
    },
  ];

  for (const c of cases) {
    it(`${c.name}: ${c.status} ${c.code}, nothing written`, async () => {
      const before = await rowCounts();
      const res = await c.run();
      expect(res.status).toBe(c.status);
      expect(res.json.error.code).toBe(c.code);
      expect(res.json.error.message).toEqual(expect.any(String));
      expect(await rowCounts()).toEqual(before);
    });
  }

  it('a wrong-type error names the field', async () => {
    const res = await call(users.POST, { method: 'POST', token: fx.members.admin.token, json: { email: 'x@example.com', name: 'X', role: 42 } });
    expect(res.json.error.details.issues[0].path).toBe('role');
  });

  it('a revoked token writes nothing even with a valid body', async () => {
    const created = await call(tokens.POST, { method: 'POST', token: fx.members.admin.token, json: { name: 'short-lived', scopes: ['users.manage'] } });
    await call(tokenById.DELETE, { method: 'DELETE', token: fx.members.admin.token, params: { id: created.json.id } });
    const before = await rowCounts();
    const res = await call(users.POST, { method: 'POST', token: created.json.token, json: { email: 'y@example.com', name: 'Y', role: 'viewer' } });
    expect(res.status).toBe(401);
    expect(await rowCounts()).toEqual(before);
  });
});
