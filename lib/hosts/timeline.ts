// A host's generations: each system it switched to through Flotilla (a succeeded
// deployment target whose system differs from the one before), newest first, with the
// deployment and request that brought it and the packages that changed against the
// generation before. Two statements, bounded by `limit`: the generations (a window over
// the host's succeeded targets) and the package changes between consecutive ones,
// computed in PostgreSQL from closure_packages so only the differing names come back.
import { sql } from 'drizzle-orm';
import type { Caller } from '@/lib/auth/caller';
import { db } from '@/lib/db/client';
import type { Host } from '@/lib/db/schema';
import { hostMetricsSeries } from '@/lib/health/samples';
import { listRequests, seesAllRequests } from '@/lib/requests/queries';
import type { HostInReach } from './reach';
import type { TRequestView } from '@/lib/requests/schemas';

type TRequestKind = TRequestView['kind'];

export type TPackageChange = { pname: string; before: string | null; after: string | null };

export type TGeneration = {
  targetId: string;
  storePath: string;
  buildId: string | null;
  at: string;
  current: boolean;
  deployment: { id: string; source: string; by: string | null };
  request: { id: string; kind: TRequestKind; package: string | null; text: string | null } | null;
  /** Null for the oldest generation known (nothing to compare with) or a system without a recorded closure. */
  changes: { added: TPackageChange[]; removed: TPackageChange[]; changed: TPackageChange[] } | null;
};

type GenerationRow = {
  target_id: string;
  store_path: string;
  build_id: string | null;
  at: string | Date;
  deployment_id: string;
  source: string;
  by: string | null;
  request_id: string | null;
  request_kind: TRequestKind | null;
  request_package: string | null;
  request_text: string | null;
  requester_id: string | null;
};

/** The last `limit` generations of the host, newest first. */
export async function hostTimeline(caller: Caller, host: Pick<Host, 'id' | 'orgId' | 'currentSystem'>, limit = 10): Promise<TGeneration[]> {
  // One more than shown: the generation before the oldest shown, to diff against.
  const rows = [
    ...(await db().execute<GenerationRow>(sql`
      with succeeded as (
        select t.id, t.deployment_id, t.store_path, t.build_id, coalesce(t.finished_at, t.updated_at) as at,
               lag(t.store_path) over (order by coalesce(t.finished_at, t.updated_at), t.id) as before
        from deployment_targets t
        where t.host_id = ${host.id} and t.phase = 'succeeded' and t.store_path is not null
      ), generations as (
        select * from succeeded where before is distinct from store_path order by at desc limit ${limit + 1}
      )
      select g.id as target_id, g.store_path, g.at, d.id as deployment_id, d.source, u.email as by,
             coalesce(g.build_id, (
               select b.id from builds b
               where b.org_id = ${host.orgId} and b.store_path = g.store_path and b.status = 'succeeded'
               order by b.finished_at desc limit 1
             )) as build_id,
             r.id as request_id, r.kind as request_kind, r.payload->>'package' as request_package, r.payload->>'text' as request_text, r.requester_id
      from generations g
      join deployments d on d.id = g.deployment_id
      left join users u on u.id = d.created_by
      left join lateral (
        select id, kind, payload, requester_id from requests
        where deployment_id = d.id and host_id = ${host.id} order by created_at limit 1
      ) r on true
      order by g.at desc, g.id`)),
  ];
  const pairs = rows.slice(0, limit).map((r, i) => ({ index: i, after: r.build_id, before: rows[i + 1]?.build_id ?? null }));
  const changes = await packageChanges(pairs.filter((p): p is { index: number; after: string; before: string } => !!p.after && !!p.before));
  const allRequests = seesAllRequests(caller);
  return rows.slice(0, limit).map((r, i) => ({
    targetId: r.target_id,
    storePath: r.store_path,
    buildId: r.build_id,
    at: new Date(r.at).toISOString(),
    current: r.store_path === host.currentSystem,
    deployment: { id: r.deployment_id, source: r.source, by: r.by },
    // A requester sees only their own requests, here as on the requests pages.
    request: r.request_id && r.request_kind && (allRequests || r.requester_id === caller.user.id) ? { id: r.request_id, kind: r.request_kind, package: r.request_package, text: r.request_text } : null,
    changes: pairs[i]?.after && pairs[i]?.before ? (changes.get(i) ?? { added: [], removed: [], changed: [] }) : null,
  }));
}

/**
 * Package names whose versions differ between each pair of builds, as diffClosures
 * (lib/builds/closure.ts) would say: versions of one name joined in order, a name only in
 * the newer build added, only in the older removed, in both with other versions changed.
 */
async function packageChanges(pairs: { index: number; after: string; before: string }[]) {
  const out = new Map<number, NonNullable<TGeneration['changes']>>();
  if (pairs.length === 0) return out;
  const ids = [...new Set(pairs.flatMap((p) => [p.after, p.before]))];
  const rows = await db().execute<{ index: number; pname: string; before: string | null; after: string | null }>(sql`
    with pairs as (
      select * from jsonb_to_recordset(${JSON.stringify(pairs)}::jsonb) as x("index" int, "after" uuid, "before" uuid)
    ), names as (
      select build_id, pname, string_agg(distinct version collate "C", ', ' order by version collate "C") as versions
      from closure_packages where build_id in (${sql.join(ids.map((id) => sql`${id}::uuid`), sql`, `)})
      group by build_id, pname
    )
    select p."index", n.pname,
           max(n.versions) filter (where n.build_id = p."before") as before,
           max(n.versions) filter (where n.build_id = p."after") as after
    from pairs p join names n on n.build_id in (p."after", p."before")
    group by p."index", n.pname
    having max(n.versions) filter (where n.build_id = p."before") is distinct from max(n.versions) filter (where n.build_id = p."after")
    order by p."index", n.pname collate "C"`);
  for (const r of rows) {
    const entry = out.get(r.index) ?? { added: [], removed: [], changed: [] };
    const change = { pname: r.pname, before: r.before, after: r.after };
    if (r.before === null) entry.added.push(change);
    else if (r.after === null) entry.removed.push(change);
    else entry.changed.push(change);
    out.set(r.index, entry);
  }
  return out;
}

/** Days of vitals the host page charts. */
export const METRICS_DAYS = 7;

/** What the host page shows besides hostDetail: its generations, vitals over the last days, and its recent requests. */
export async function hostActivity(caller: Caller, host: HostInReach) {
  const [generations, samples, recentRequests] = await Promise.all([
    hostTimeline(caller, host),
    hostMetricsSeries(host.id, METRICS_DAYS),
    listRequests(caller, { status: 'all', host: host.name, limit: 8 }),
  ]);
  return { generations, samples, recentRequests };
}
