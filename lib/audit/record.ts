// The append-only audit trail. Call it with the transaction that makes the change,
// so the event exists exactly when the change does.
import type { Caller } from '@/lib/auth/caller';
import type { Tx } from '@/lib/db/client';
import { auditEvents } from '@/lib/db/schema';

export type AuditActor = Caller | { system: string; orgId?: string | null; userId?: string | null; ip?: string };

export type AuditInput = {
  action: string;
  objectType: string;
  objectId?: string | null;
  before?: unknown;
  after?: unknown;
};

function describe(actor: AuditActor) {
  if ('system' in actor) {
    return { orgId: actor.orgId ?? null, actorUserId: actor.userId ?? null, actorTokenId: null, actorLabel: actor.system, ip: actor.ip ?? null };
  }
  return {
    orgId: actor.org.id,
    actorUserId: actor.user.id,
    actorTokenId: actor.token?.id ?? null,
    actorLabel: actor.via === 'policy' ? `policy, for ${actor.user.email}` : actor.token ? `${actor.user.email} (token ${actor.token.name})` : actor.user.email,
    ip: actor.ip ?? null,
  };
}

export async function recordAudit(tx: Tx, actor: AuditActor, event: AuditInput) {
  await tx.insert(auditEvents).values({
    ...describe(actor),
    action: event.action,
    objectType: event.objectType,
    objectId: event.objectId ?? null,
    before: event.before ?? null,
    after: event.after ?? null,
  });
}
