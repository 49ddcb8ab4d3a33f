// API tokens: random secrets shown once, stored as SHA-256, bound to a user in one
// organisation, narrowed by scopes, expiring and revocable (DESIGN.md §12).
import 'server-only';
import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import { recordAudit } from '@/lib/audit/record';
import { AppError } from '@/lib/api/errors';
import { db } from '@/lib/db/client';
import { apiTokens, memberships, organizations, users } from '@/lib/db/schema';
import type { Caller } from './caller';
import { effectivePermissions } from './permissions';
import { generateSecret, hashSecret } from './secrets';
import type { TCreateToken, TTokenSummary } from './api-tokens.schemas';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * A token made by a token stays inside it: its tags within the parent's tag limit (the
 * parent's limit when none is asked for) and its expiry no later than the parent's.
 */
function boundByParent(caller: Caller, hostTags: string[] | undefined, expiresAt: Date | null) {
  const parent = caller.token;
  if (!parent) return { hostTags: hostTags ?? null, expiresAt };
  const limit = parent.hostTags;
  if (limit && hostTags) {
    const outside = hostTags.filter((t) => !limit.includes(t));
    if (outside.length) throw new AppError('forbidden', `This token is limited to hosts tagged ${limit.join(', ')}; it cannot make a token for ${outside.join(', ')}`, { hostTags: outside });
  }
  const parentExpiry = parent.expiresAt ?? null;
  if (parentExpiry && expiresAt && expiresAt > parentExpiry) {
    throw new AppError('forbidden', `This token expires on ${parentExpiry.toISOString()}; a token it makes cannot outlive it`, { expiresAt: parentExpiry.toISOString() });
  }
  return { hostTags: hostTags ?? limit ?? null, expiresAt: expiresAt ?? parentExpiry };
}

export async function createApiToken(caller: Caller, input: TCreateToken) {
  // A token can never do more than the person who made it.
  const beyond = input.scopes.filter((scope) => !caller.permissions.has(scope));
  if (beyond.length > 0) {
    throw new AppError('forbidden', `Your role cannot grant these scopes: ${beyond.join(', ')}`, { scopes: beyond });
  }
  const { secret, hash, prefix } = generateSecret('flt');
  const asked = input.expiresInDays ? new Date(Date.now() + input.expiresInDays * DAY_MS) : null;
  const { hostTags, expiresAt } = boundByParent(caller, input.hostTags ? [...new Set(input.hostTags)] : undefined, asked);
  return db().transaction(async (tx) => {
    const [row] = await tx
      .insert(apiTokens)
      .values({ orgId: caller.org.id, userId: caller.user.id, name: input.name, tokenHash: hash, prefix, scopes: [...new Set(input.scopes)], hostTags, expiresAt, parentId: caller.token?.id ?? null })
      .returning({ id: apiTokens.id });
    if (!row) throw new Error('insert returned nothing');
    await recordAudit(tx, caller, {
      action: 'token.create',
      objectType: 'api_token',
      objectId: row.id,
      after: { name: input.name, scopes: input.scopes, hostTags, expiresAt, ...(caller.token ? { madeByToken: caller.token.id } : {}) },
    });
    return { id: row.id, token: secret, prefix, expiresAt: expiresAt?.toISOString() ?? null };
  });
}

function summarize(row: typeof apiTokens.$inferSelect): TTokenSummary {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes,
    hostTags: row.hostTags,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt?.toISOString() ?? null,
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}

export async function listApiTokens(caller: Caller): Promise<TTokenSummary[]> {
  const rows = await db()
    .select()
    .from(apiTokens)
    .where(and(eq(apiTokens.orgId, caller.org.id), eq(apiTokens.userId, caller.user.id)))
    .orderBy(desc(apiTokens.createdAt));
  return rows.map(summarize);
}

/** Revokes one of the caller's tokens; admins (users.manage) may revoke anyone's in their organisation. */
export async function revokeApiToken(caller: Caller, tokenId: string) {
  return db().transaction(async (tx) => {
    const [row] = await tx
      .select()
      .from(apiTokens)
      .where(and(eq(apiTokens.id, tokenId), eq(apiTokens.orgId, caller.org.id)))
      .for('update');
    if (!row || (row.userId !== caller.user.id && !caller.permissions.has('users.manage'))) {
      throw new AppError('not_found', 'No such token');
    }
    if (row.revokedAt) return summarize(row);
    const [updated] = await tx.update(apiTokens).set({ revokedAt: new Date() }).where(eq(apiTokens.id, tokenId)).returning();
    // The tokens it made, and theirs: none outlives the token it came from.
    const descendants = await tx.execute<{ id: string }>(sql`
      with recursive made(id) as (
        select id from ${apiTokens} where parent_id = ${tokenId}
        union
        select t.id from ${apiTokens} t join made on t.parent_id = made.id
      )
      update ${apiTokens} set revoked_at = now() where id in (select id from made) and revoked_at is null returning id`);
    await recordAudit(tx, caller, {
      action: 'token.revoke',
      objectType: 'api_token',
      objectId: tokenId,
      before: { name: row.name },
      ...(descendants.length ? { after: { alsoRevoked: [...descendants].map((d) => d.id) } } : {}),
    });
    return summarize(updated ?? row);
  });
}

/** Resolves a presented secret to a caller, or throws 401 with the reason. */
export async function callerFromApiToken(secret: string, ip?: string): Promise<Caller> {
  const [row] = await db()
    .select({ token: apiTokens, user: users, org: organizations, role: memberships.role })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .innerJoin(organizations, eq(organizations.id, apiTokens.orgId))
    .leftJoin(memberships, and(eq(memberships.orgId, apiTokens.orgId), eq(memberships.userId, apiTokens.userId)))
    .where(eq(apiTokens.tokenHash, hashSecret(secret)))
    .limit(1);
  if (!row) throw new AppError('unauthorized', 'Invalid API token');
  if (row.token.revokedAt) throw new AppError('unauthorized', 'This API token has been revoked');
  if (row.token.expiresAt && row.token.expiresAt <= new Date()) throw new AppError('unauthorized', 'This API token has expired');
  if (row.user.disabledAt || !row.role) throw new AppError('unauthorized', 'The owner of this API token no longer has access');
  // Last use is informational: one cheap update, at most once a minute per token.
  if (!row.token.lastUsedAt || Date.now() - row.token.lastUsedAt.getTime() > 60_000) {
    await db().update(apiTokens).set({ lastUsedAt: new Date() }).where(and(eq(apiTokens.id, row.token.id), isNull(apiTokens.revokedAt)));
  }
  return {
    user: { id: row.user.id, email: row.user.email, name: row.user.name },
    org: { id: row.org.id, slug: row.org.slug, name: row.org.name },
    role: row.role,
    permissions: effectivePermissions(row.role, row.token.scopes),
    via: 'token',
    token: { id: row.token.id, name: row.token.name, hostTags: row.token.hostTags, expiresAt: row.token.expiresAt },
    ip,
  };
}
