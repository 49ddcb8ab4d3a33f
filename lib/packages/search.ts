// Searching the package index: prefix matches on names and words of descriptions,
// exact attribute names first. Input never reaches SQL text: words are sanitised and
// bound as parameters.
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { db } from '@/lib/db/client';
import { packageIndex, packageIndexSources } from '@/lib/db/schema';

export type PackageHit = { attr: string; pname: string; version: string; description: string };

const columns = { attr: packageIndex.attr, pname: packageIndex.pname, version: packageIndex.version, description: packageIndex.description };

/** Each word (letters and digits) as a prefix, all required: `rip gr` → `rip:* & gr:*`. Safe to bind into to_tsquery. */
export function toPrefixQuery(query: string): string | null {
  const words = query
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean)
    .slice(0, 8);
  return words.length ? words.map((w) => `${w}:*`).join(' & ') : null;
}

export async function searchPackages(source: string, query: string, limit = 20): Promise<PackageHit[]> {
  const q = query.trim();
  if (!q) return db().select(columns).from(packageIndex).where(eq(packageIndex.source, source)).orderBy(asc(packageIndex.attr)).limit(limit);
  const tsquery = toPrefixQuery(q);
  const like = `${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const match = tsquery
    ? sql`(${packageIndex.search} @@ to_tsquery('simple', ${tsquery}) or ${packageIndex.search} @@ to_tsquery('english', ${tsquery}) or lower(${packageIndex.attr}) like ${like})`
    : sql`lower(${packageIndex.attr}) like ${like}`;
  return db()
    .select(columns)
    .from(packageIndex)
    .where(and(eq(packageIndex.source, source), match))
    .orderBy(
      sql`lower(${packageIndex.attr}) = ${q.toLowerCase()} desc`,
      sql`lower(${packageIndex.attr}) like ${like} desc`,
      tsquery ? sql`ts_rank(${packageIndex.search}, to_tsquery('simple', ${tsquery})) desc` : sql`1`,
      asc(packageIndex.attr),
    )
    .limit(limit);
}

export async function getPackages(source: string, attrs: string[]): Promise<PackageHit[]> {
  if (attrs.length === 0) return [];
  return db().select(columns).from(packageIndex).where(and(eq(packageIndex.source, source), inArray(packageIndex.attr, attrs)));
}

export async function indexStatus(source: string) {
  const [row] = await db().select().from(packageIndexSources).where(eq(packageIndexSources.source, source));
  return row ?? null;
}
