import { eq, sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import * as me from '@/app/api/v1/me/route';
import * as tokenById from '@/app/api/v1/tokens/[id]/route';
import * as tokens from '@/app/api/v1/tokens/route';
import * as users from '@/app/api/v1/users/route';
import { generateSecret } from '@/lib/auth/secrets';
import { db } from '@/lib/db/client';
import { apiTokens, auditEvents } from '@/lib/db/schema';
import { call, makeOrg, PASSWORD, type OrgFixture } from './fixtures';

const basic = (email: string, password: string) => `Basic ${Buffer.from(`${email}:${password}`).toString('base64')}`;

describe('API tokens', () => {
  let fx: OrgFixture;
  beforeAll(async () => {
    fx = await makeOrg();
  });

  it('are created once, work, and stop working when revoked', async () => {
    const admin = fx.members.admin;
    const created = await call(tokens.POST, { method: 'POST', token: admin.token, json: { name: 'ci', scopes: ['users.read', 'tokens.own'] } });
    expect(created.status).toBe(201);
    const secret: string = created.json.token;
    expect(secret).toMatch(/^flt_/);

    const [stored] = await db().select().from(apiTokens).where(eq(apiTokens.id, created.json.id));
    expect(stored?.tokenHash).not.toContain(secret);
    expect(JSON.stringify(stored)).not.toContain(secret);

    expect((await call(users.GET, { token: secret })).status).toBe(200);
    const listed = await call(tokens.GET, { token: secret });
    expect(listed.json.tokens.map((t: { name: string }) => t.name)).toContain('ci');
    expect(JSON.stringify(listed.json)).not.toContain(secret);

    const revoked = await call(tokenById.DELETE, { method: 'DELETE', token: admin.token, params: { id: created.json.id } });
    expect(revoked.status).toBe(200);
    const after = await call(me.GET, { token: secret });
    expect(after.status).toBe(401);
    expect(after.json.error.message).toMatch(/revoked/);

    const audit = await db().select().from(auditEvents).where(eq(auditEvents.objectId, created.json.id));
    expect(audit.map((a) => a.action).sort()).toEqual(['token.create', 'token.revoke']);
  });

  it('narrow the role by their scopes', async () => {
    const created = await call(tokens.POST, { method: 'POST', token: fx.members.admin.token, json: { name: 'narrow', scopes: ['tokens.own'] } });
    const res = await call(users.GET, { token: created.json.token });
    expect(res.status).toBe(403);
    expect(res.json.error.message).toContain('users.read');
  });

  it('cannot grant more than the creator has, and nothing is written', async () => {
    const before = await db().select({ n: sql<number>`count(*)::int` }).from(apiTokens);
    const res = await call(tokens.POST, { method: 'POST', token: fx.members.requester.token, json: { name: 'sneaky', scopes: ['users.manage'] } });
    expect(res.status).toBe(403);
    const afterCount = await db().select({ n: sql<number>`count(*)::int` }).from(apiTokens);
    expect(afterCount[0]?.n).toBe(before[0]?.n);
  });

  it('are refused when expired', async () => {
    const { secret, hash, prefix } = generateSecret('flt');
    await db()
      .insert(apiTokens)
      .values({ orgId: fx.org.id, userId: fx.members.admin.id, name: 'old', tokenHash: hash, prefix, scopes: ['tokens.own'], expiresAt: new Date(Date.now() - 1000) });
    const res = await call(me.GET, { token: secret });
    expect(res.status).toBe(401);
    expect(res.json.error.message).toMatch(/expired/);
  });

  it('can be created with e-mail and password over HTTP Basic (CLI login), and only there', async () => {
    const admin = fx.members.admin;
    const ok = await call(tokens.POST, {
      method: 'POST',
      headers: { authorization: basic(admin.email, PASSWORD) },
      json: { name: 'laptop', scopes: ['tokens.own'] },
    });
    expect(ok.status).toBe(201);
    const wrong = await call(tokens.POST, {
      method: 'POST',
      headers: { authorization: basic(admin.email, 'not-the-password') },
      json: { name: 'laptop', scopes: ['tokens.own'] },
    });
    expect(wrong.status).toBe(401);
    const elsewhere = await call(users.GET, { headers: { authorization: basic(admin.email, PASSWORD) } });
    expect(elsewhere.status).toBe(401);
  });

  it('stop working when their owner leaves the organisation', async () => {
    const { removeMember } = await import('@/lib/orgs/members');
    const viewer = fx.members.viewer;
    expect((await call(me.GET, { token: viewer.token })).status).toBe(200);
    await removeMember(fx.members.admin.caller, viewer.id);
    expect((await call(me.GET, { token: viewer.token })).status).toBe(401);
  });
});
