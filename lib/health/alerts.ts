// Alert rules (host offline for N minutes, last deployment failed, store disk below X,
// failed systemd units) evaluated every minute by the worker. A firing is one row per
// rule and subject while the condition holds (a partial unique index), so an alert is
// sent once when it starts and once when it resolves, however often it is evaluated.
import { and, asc, desc, eq, inArray, isNull, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { recordAudit } from '@/lib/audit/record';
import { AppError } from '@/lib/api/errors';
import type { Caller } from '@/lib/auth/caller';
import { db } from '@/lib/db/client';
import { ALERT_KINDS } from '@/lib/db/enums';
import { alertFirings, alertRules, hosts } from '@/lib/db/schema';
import { env } from '@/lib/env';
import { FAILED_UNITS_SQL, HOST_STATUS_SQL, STORE_FREE_SQL } from '@/lib/hosts/status-sql';
import { emitEvent } from '@/lib/notify/emit';
import { notifyPeople, usersWithPermission } from '@/lib/notify/people';


export const ZAlertRule = z
  .strictObject({
    name: z.string().trim().min(1).max(100),
    kind: z.enum(ALERT_KINDS),
    /** Minutes offline (host-offline) or free MiB on the Nix store (disk-low). */
    threshold: z.coerce.number().int().min(0).max(10_000_000).default(0),
    tags: z.array(z.string().trim().min(1).max(64)).max(20).default([]),
    enabled: z.boolean().default(true),
  })
  .refine((r) => !(r.kind === 'host-offline' || r.kind === 'disk-low') || r.threshold > 0, { message: 'Give a threshold (minutes offline, or MiB free)', path: ['threshold'] });
export type TAlertRule = z.infer<typeof ZAlertRule>;

/** The settings form: tags as one comma-separated field, a threshold only for the kinds that take one. */
export const ZAlertRuleForm = z.preprocess((raw) => {
  if (typeof raw !== 'object' || raw === null) return raw;
  const { tags, ...rest } = raw as Record<string, unknown>;
  return { ...rest, tags: typeof tags === 'string' ? tags.split(',').map((t) => t.trim()).filter(Boolean) : (tags ?? []) };
}, ZAlertRule);

/** Where alerts are listed, for the links in webhooks and notifications. */
export const ALERTS_PAGE = '/settings/alerts';

type Rule = typeof alertRules.$inferSelect;

export async function listAlertRules(caller: Caller) {
  const orgId = caller.org.id;
  const rules = await db().select().from(alertRules).where(eq(alertRules.orgId, orgId)).orderBy(asc(alertRules.name));
  const open = await db()
    .select({ ruleId: alertFirings.ruleId, n: sql<number>`count(*)::int` })
    .from(alertFirings)
    .innerJoin(alertRules, eq(alertRules.id, alertFirings.ruleId))
    .where(and(eq(alertRules.orgId, orgId), isNull(alertFirings.resolvedAt)))
    .groupBy(alertFirings.ruleId);
  return rules.map((r) => ({ id: r.id, name: r.name, kind: r.kind, threshold: r.threshold, tags: r.tags, enabled: r.enabled, firing: open.find((o) => o.ruleId === r.id)?.n ?? 0 }));
}

export async function createAlertRule(caller: Caller, input: TAlertRule) {
  return db().transaction(async (tx) => {
    const [row] = await tx.insert(alertRules).values({ ...input, orgId: caller.org.id, createdBy: caller.user.id }).returning({ id: alertRules.id });
    if (!row) throw new Error('insert returned nothing');
    await recordAudit(tx, caller, { action: 'alert.rule.create', objectType: 'alert_rule', objectId: row.id, after: input });
    return { id: row.id };
  });
}

export async function deleteAlertRule(caller: Caller, id: string) {
  return db().transaction(async (tx) => {
    const [row] = await tx.delete(alertRules).where(and(eq(alertRules.id, id), eq(alertRules.orgId, caller.org.id))).returning();
    if (!row) throw new AppError('not_found', 'No such alert rule');
    await recordAudit(tx, caller, { action: 'alert.rule.delete', objectType: 'alert_rule', objectId: id, before: { name: row.name, kind: row.kind } });
    return { id };
  });
}

export async function recentFirings(caller: Caller, limit = 50) {
  const orgId = caller.org.id;
  const rows = await db()
    .select({ id: alertFirings.id, rule: alertRules.name, kind: alertRules.kind, host: hosts.name, summary: alertFirings.summary, firedAt: alertFirings.firedAt, resolvedAt: alertFirings.resolvedAt })
    .from(alertFirings)
    .innerJoin(alertRules, eq(alertRules.id, alertFirings.ruleId))
    .leftJoin(hosts, and(eq(hosts.id, alertFirings.hostId), isNull(hosts.retiredAt)))
    .where(eq(alertRules.orgId, orgId))
    .orderBy(desc(alertFirings.firedAt))
    .limit(limit);
  return rows.map((r) => ({ ...r, firedAt: r.firedAt.toISOString(), resolvedAt: r.resolvedAt?.toISOString() ?? null }));
}

const mib = (bytes: unknown) => `${Math.round(Number(bytes) / 1024 / 1024)} MiB`;

/** The hosts for which the rule's condition holds now, with a line saying why. */
async function matching(rule: Rule, now: Date): Promise<{ hostId: string; summary: string }[]> {
  const where: SQL[] = [eq(hosts.orgId, rule.orgId), isNull(hosts.retiredAt)];
  if (rule.tags.length) where.push(sql`${hosts.tags} && ${sql.param(rule.tags)}::text[]`);
  const base = { id: hosts.id, name: hosts.name, lastSeen: hosts.lastSeen, storeFree: STORE_FREE_SQL, lastHealth: hosts.lastHealth, phase: hosts.lastDeployPhase };
  switch (rule.kind) {
    case 'host-offline': {
      where.push(sql`not ${hosts.online} and ${hosts.lastSeen} < ${new Date(now.getTime() - rule.threshold * 60_000).toISOString()}::timestamptz`);
      const rows = await db().select(base).from(hosts).where(and(...where));
      return rows.map((h) => ({ hostId: h.id, summary: `${h.name} has been offline since ${h.lastSeen?.toISOString()}` }));
    }
    case 'deployment-failed': {
      where.push(HOST_STATUS_SQL.failed);
      const rows = await db().select(base).from(hosts).where(and(...where));
      return rows.map((h) => ({ hostId: h.id, summary: `The last deployment to ${h.name} ${h.phase === 'rolled-back' ? 'was rolled back' : 'failed'}` }));
    }
    case 'disk-low': {
      where.push(sql`${STORE_FREE_SQL} < ${rule.threshold * 1024 * 1024}`);
      const rows = await db().select(base).from(hosts).where(and(...where));
      return rows.map((h) => ({ hostId: h.id, summary: `${h.name} has ${mib(h.storeFree)} free on its Nix store (below ${rule.threshold} MiB)` }));
    }
    case 'units-failed': {
      where.push(sql`${FAILED_UNITS_SQL} > 0`);
      const rows = await db().select(base).from(hosts).where(and(...where));
      return rows.map((h) => {
        const units = (h.lastHealth?.failedUnits ?? []).slice(0, 5).join(', ');
        return { hostId: h.id, summary: `${h.name} has failed units: ${units}` };
      });
    }
  }
}

async function announce(rule: Rule, firing: { id: string; summary: string }, state: 'fired' | 'resolved') {
  const title = state === 'fired' ? `Alert "${rule.name}": ${firing.summary}` : `Resolved "${rule.name}": ${firing.summary}`;
  try {
    await emitEvent(rule.orgId, { type: `alert.${state}`, key: `${firing.id}:${state}`, summary: title, url: `${env().publicUrl}${ALERTS_PAGE}`, data: { rule: rule.name, kind: rule.kind, firing: firing.id, summary: firing.summary } });
    await notifyPeople(rule.orgId, await usersWithPermission(rule.orgId, 'hosts.write'), { kind: `alert.${state}`, key: `${firing.id}:${state}`, title, url: ALERTS_PAGE });
  } catch (error) {
    console.error(`[alerts] announcing ${state} ${firing.id} failed:`, error instanceof Error ? error.message : error);
  }
}

/** Opens firings for new matches, resolves those that no longer match, and announces both once. */
export async function evaluateAlerts(now = new Date()) {
  const rules = await db().select().from(alertRules).where(eq(alertRules.enabled, true));
  let fired = 0;
  let resolved = 0;
  for (const rule of rules) {
    const matches = await matching(rule, now);
    const subjects = new Set(matches.map((m) => `host:${m.hostId}`));
    for (const m of matches) {
      const rows = await db().execute<{ id: string }>(sql`
        insert into alert_firings (rule_id, subject, host_id, summary, fired_at) values (${rule.id}, ${`host:${m.hostId}`}, ${m.hostId}, ${m.summary}, ${now.toISOString()}::timestamptz)
        on conflict (rule_id, subject) where resolved_at is null do nothing returning id`);
      const row = [...rows][0];
      if (row) {
        fired += 1;
        await announce(rule, { id: row.id, summary: m.summary }, 'fired');
      }
    }
    const open = await db().select().from(alertFirings).where(and(eq(alertFirings.ruleId, rule.id), isNull(alertFirings.resolvedAt)));
    const gone = open.filter((f) => !subjects.has(f.subject));
    if (gone.length) {
      const closed = await db()
        .update(alertFirings)
        .set({ resolvedAt: now })
        .where(and(inArray(alertFirings.id, gone.map((g) => g.id)), isNull(alertFirings.resolvedAt)))
        .returning();
      for (const f of closed) {
        resolved += 1;
        await announce(rule, f, 'resolved');
      }
    }
  }
  // Rules switched off resolve what they had open, silently.
  await db().execute(sql`update alert_firings set resolved_at = ${now.toISOString()}::timestamptz where resolved_at is null and rule_id in (select id from alert_rules where not enabled)`);
  return { fired, resolved };
}
