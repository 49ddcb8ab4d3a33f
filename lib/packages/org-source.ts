import { eq } from 'drizzle-orm';
import { db } from '@/lib/db/client';
import { fleetSettings } from '@/lib/db/schema';
import { resolveNixpkgsSource, type NixpkgsSource } from './source';

/** The nixpkgs source an organisation builds from. */
export async function orgNixpkgsSource(orgId: string): Promise<NixpkgsSource> {
  const [row] = await db().select({ nixpkgs: fleetSettings.nixpkgsSource }).from(fleetSettings).where(eq(fleetSettings.orgId, orgId));
  return resolveNixpkgsSource(row?.nixpkgs ?? null);
}

/** Every source some organisation builds from (the default included), for the worker to index. */
export async function allNixpkgsSources(): Promise<NixpkgsSource[]> {
  const rows = await db().selectDistinct({ nixpkgs: fleetSettings.nixpkgsSource }).from(fleetSettings);
  const sources = [resolveNixpkgsSource(null), ...rows.map((r) => resolveNixpkgsSource(r.nixpkgs))];
  return [...new Map(sources.map((s) => [s.key, s])).values()];
}
