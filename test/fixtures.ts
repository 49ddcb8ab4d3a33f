// Test data made through the same code paths the product uses, with unique names.
import { randomBytes } from 'node:crypto';
import { NextRequest } from 'next/server';
import { createApiToken } from '@/lib/auth/api-tokens';
import type { Caller } from '@/lib/auth/caller';
import { callerForUser } from '@/lib/auth/membership';
import { hashPassword } from '@/lib/auth/passwords';
import { ROLE_PERMISSIONS } from '@/lib/auth/permissions';
import type { GuardedRoute } from '@/lib/api/route';
import { db } from '@/lib/db/client';
import { ROLES } from '@/lib/db/enums';
import { fleetSettings, memberships, organizations, users, type Role } from '@/lib/db/schema';

export const PASSWORD = 'correct-horse-battery-staple';

export type Member = { id: string; email: string; caller: Caller; token: string };
export type OrgFixture = { org: { id: string; slug: string; name: string }; members: Record<Role, Member> };

const passwordHash = hashPassword(PASSWORD);

export async function makeOrg(): Promise<OrgFixture> {
  const suffix = randomBytes(4).toString('hex');
  const [org] = await db().insert(organizations).values({ name: `Org ${suffix}`, slug: `org-${suffix}` }).returning();
  if (!org) throw new Error('no org');
  await db().insert(fleetSettings).values({ orgId: org.id });
  const members = {} as Record<Role, Member>;
  for (const role of ROLES) {
    const email = `${role}-${suffix}@example.com`;
    const [user] = await db()
      .insert(users)
      .values({ email, name: `${role} ${suffix}`, passwordHash: await passwordHash })
      .returning();
    if (!user) throw new Error('no user');
    await db().insert(memberships).values({ orgId: org.id, userId: user.id, role });
    const caller = await callerForUser(user.id);
    if (!caller) throw new Error('no caller');
    const { token } = await createApiToken(caller, { name: `all ${role}`, scopes: [...ROLE_PERMISSIONS[role]] });
    members[role] = { id: user.id, email, caller, token };
  }
  return { org: { id: org.id, slug: org.slug, name: org.name }, members };
}

export type CallOptions = {
  method?: string;
  path?: string;
  token?: string;
  headers?: Record<string, string>;
  json?: unknown;
  body?: string;
  params?: Record<string, string>;
};

/** Calls a route handler the way Next.js does, with a real Request. */
export async function call(handler: GuardedRoute, opts: CallOptions = {}) {
  const headers = new Headers(opts.headers);
  if (opts.token) headers.set('authorization', `Bearer ${opts.token}`);
  let body = opts.body;
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  }
  const req = new NextRequest(new URL(opts.path ?? '/api/v1/test', 'http://localhost:3000'), { method: opts.method ?? 'GET', headers, body });
  const res = await handler(req, { params: Promise.resolve(opts.params ?? {}) });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: res.status, json: json as Record<string, any>, headers: res.headers };
}
