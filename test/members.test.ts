import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import * as userById from '@/app/api/v1/users/[id]/route';
import * as users from '@/app/api/v1/users/route';
import { callerForUser } from '@/lib/auth/membership';
import { checkPassword } from '@/lib/auth/next-auth';
import { db } from '@/lib/db/client';
import { auditEvents, users as usersTable } from '@/lib/db/schema';
import { acceptInvitation, findInvitation } from '@/lib/orgs/accept-invitation';
import { call, makeOrg, type OrgFixture } from './fixtures';

describe('members', () => {
  let fx: OrgFixture;
  beforeAll(async () => {
    fx = await makeOrg();
  });

  it('an admin adds a member with a password, who can then sign in', async () => {
    const res = await call(users.POST, {
      method: 'POST',
      token: fx.members.admin.token,
      json: { email: 'New.Operator@Example.com', name: 'New Operator', role: 'operator', password: 'a-long-enough-password' },
    });
    expect(res.status).toBe(201);
    const signIn = await checkPassword('new.operator@example.com', 'a-long-enough-password');
    expect(signIn.ok).toBe(true);
    const caller = await callerForUser(res.json.id);
    expect(caller?.role).toBe('operator');
    const [event] = await db().select().from(auditEvents).where(eq(auditEvents.objectId, res.json.id));
    expect(event?.action).toBe('member.add');
    expect(event?.actorLabel).toContain(fx.members.admin.email);
  });

  it('without a password, an invitation link works once', async () => {
    const res = await call(users.POST, { method: 'POST', token: fx.members.admin.token, json: { email: 'invitee@example.com', name: 'Invitee', role: 'requester' } });
    expect(res.status).toBe(201);
    const url: string = res.json.invitation.url;
    const secret = url.split('/invite/')[1] as string;
    expect(await findInvitation(secret)).not.toBeNull();
    const [before] = await db().select().from(usersTable).where(eq(usersTable.email, 'invitee@example.com'));
    expect(before).toBeUndefined();

    await acceptInvitation({ token: secret, name: 'Invitee', password: 'invitee-password-1' });
    expect((await checkPassword('invitee@example.com', 'invitee-password-1')).ok).toBe(true);
    await expect(acceptInvitation({ token: secret, name: 'Again', password: 'invitee-password-2' })).rejects.toThrow(/invalid, expired or already used/);
  });

  it('adding an existing member again is a conflict', async () => {
    const res = await call(users.POST, { method: 'POST', token: fx.members.admin.token, json: { email: fx.members.viewer.email, name: 'Dup', role: 'viewer' } });
    expect(res.status).toBe(409);
  });

  it('the last admin can be neither demoted nor removed', async () => {
    const admin = fx.members.admin;
    const demote = await call(userById.PATCH, { method: 'PATCH', token: admin.token, params: { id: admin.id }, json: { role: 'viewer' } });
    expect(demote.status).toBe(409);
    const remove = await call(userById.DELETE, { method: 'DELETE', token: admin.token, params: { id: admin.id } });
    expect(remove.status).toBe(409);
    expect((await callerForUser(admin.id))?.role).toBe('admin');
  });

  it('role changes take effect on the next request', async () => {
    const op = fx.members.operator;
    const res = await call(userById.PATCH, { method: 'PATCH', token: fx.members.admin.token, params: { id: op.id }, json: { role: 'viewer' } });
    expect(res.status).toBe(200);
    expect((await call(users.GET, { token: op.token })).status).toBe(403);
    expect((await callerForUser(op.id))?.role).toBe('viewer');
  });

  it('members of another organisation are out of reach', async () => {
    const other = await makeOrg();
    const res = await call(userById.PATCH, { method: 'PATCH', token: fx.members.admin.token, params: { id: other.members.viewer.id }, json: { role: 'admin' } });
    expect(res.status).toBe(404);
    expect((await callerForUser(other.members.viewer.id))?.role).toBe('viewer');
  });
});
