// Organisation and fleet settings.
import { eq } from 'drizzle-orm';
import { recordAudit } from '@/lib/audit/record';
import type { Caller } from '@/lib/auth/caller';
import { db } from '@/lib/db/client';
import { ZRolloutInput, type TRolloutInput } from '@/lib/db/json-types';
import { fleetSettings, organizations } from '@/lib/db/schema';
import { effectiveStrategy } from '@/lib/deployments/strategy';
import { env } from '@/lib/env';

export async function orgSettings(caller: Caller) {
  const orgId = caller.org.id;
  const [row] = await db()
    .select({ org: organizations, fleet: fleetSettings })
    .from(organizations)
    .leftJoin(fleetSettings, eq(fleetSettings.orgId, organizations.id))
    .where(eq(organizations.id, orgId));
  if (!row) throw new Error(`organisation ${orgId} vanished`);
  const nixpkgs = row.fleet?.nixpkgsSource ?? env().FLOTILLA_NIXPKGS ?? null;
  return {
    name: row.org.name,
    slug: row.org.slug,
    createdAt: row.org.createdAt,
    nixpkgsSource: nixpkgs,
    cachePublicKey: row.fleet?.cachePublicKey ?? null,
    buildRetentionDays: row.fleet?.buildRetentionDays ?? 30,
    cacheTrustedKeys: row.fleet?.cacheTrustedKeys ?? [],
    /** What a deployment gets when it asks for nothing else: the stored defaults over the built-in ones. */
    rolloutDefaults: effectiveStrategy(row.fleet?.rolloutDefaults, undefined),
  };
}

export async function renameOrg(caller: Caller, name: string) {
  return db().transaction(async (tx) => {
    const [before] = await tx.select({ name: organizations.name }).from(organizations).where(eq(organizations.id, caller.org.id)).for('update');
    await tx.update(organizations).set({ name }).where(eq(organizations.id, caller.org.id));
    await recordAudit(tx, caller, { action: 'org.update', objectType: 'organization', objectId: caller.org.id, before, after: { name } });
    return { name };
  });
}

export async function setBuildRetention(caller: Caller, days: number) {
  return db().transaction(async (tx) => {
    const [before] = await tx.select({ days: fleetSettings.buildRetentionDays }).from(fleetSettings).where(eq(fleetSettings.orgId, caller.org.id));
    await tx
      .insert(fleetSettings)
      .values({ orgId: caller.org.id, buildRetentionDays: days })
      .onConflictDoUpdate({ target: fleetSettings.orgId, set: { buildRetentionDays: days, updatedAt: new Date() } });
    await recordAudit(tx, caller, { action: 'fleet.retention', objectType: 'organization', objectId: caller.org.id, before: { days: before?.days }, after: { days } });
    return { days };
  });
}

/** The fleet's rollout defaults, which every deployment starts from (lib/deployments/create.ts). */
export async function setRolloutDefaults(caller: Caller, input: TRolloutInput) {
  // Checked here as well as at the edge: nothing reads these without parsing, but a bad value would make every deployment refuse.
  const defaults = ZRolloutInput.parse(input);
  return db().transaction(async (tx) => {
    const [before] = await tx.select({ defaults: fleetSettings.rolloutDefaults }).from(fleetSettings).where(eq(fleetSettings.orgId, caller.org.id)).for('update');
    await tx
      .insert(fleetSettings)
      .values({ orgId: caller.org.id, rolloutDefaults: defaults })
      .onConflictDoUpdate({ target: fleetSettings.orgId, set: { rolloutDefaults: defaults, updatedAt: new Date() } });
    await recordAudit(tx, caller, { action: 'fleet.rollout-defaults', objectType: 'organization', objectId: caller.org.id, before: { defaults: before?.defaults ?? {} }, after: { defaults } });
    return { defaults: effectiveStrategy(defaults, undefined) };
  });
}
