// Seeds an organisation with many hosts (names, tags, presence, systems, agent and
// NixOS versions, last health, deployment outcomes) and, optionally, days of metrics
// (hourly host samples, fleet samples, deployments), in a few statements each. Used by
// the benchmarks; `npx tsx bench/seed.ts 10000 30` seeds DATABASE_URL with 30 days.
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { db } from '@/lib/db/client';
import { fleetSettings, memberships, organizations, users } from '@/lib/db/schema';

/** An organisation with its settings and one operator, named apart from any other bench run's. */
export async function benchOrg() {
  const suffix = randomBytes(3).toString('hex');
  const [org] = await db().insert(organizations).values({ name: `Bench ${suffix}`, slug: `bench-${suffix}` }).returning();
  const [user] = await db().insert(users).values({ email: `bench-${suffix}@example.com`, name: 'Bench' }).returning();
  if (!org || !user) throw new Error('seed failed');
  await db().insert(memberships).values({ orgId: org.id, userId: user.id, role: 'operator' });
  await db().insert(fleetSettings).values({ orgId: org.id });
  return { org, user };
}

export async function seedFleet(count: number, metricDays = 0) {
  const { org, user } = await benchOrg();
  // One statement for the hosts and one for their first config version.
  await db().execute(sql`
    insert into hosts (org_id, name, tags, online, last_seen, current_system, desired_system, booted_system, enrolled_at,
                       agent_version, nixos_version, nixpkgs_date, last_health, last_deploy_phase, last_deploy_at)
    select ${org.id}::uuid,
           (array['web','db','cache','build','laptop'])[1 + i % 5] || '-' || lpad(i::text, 5, '0'),
           array[(array['web','db','cache','build','laptop'])[1 + i % 5], (array['eu','us','ap'])[1 + i % 3]] || case when i % 10 = 0 then array['canary'] else array[]::text[] end,
           i % 7 <> 0,
           case when i % 13 = 0 then null else now() - (i % 600) * interval '1 minute' end,
           '/nix/store/' || md5(i::text) || '-nixos-system',
           case when i % 11 = 0 then '/nix/store/' || md5((i + 1)::text) || '-nixos-system' else '/nix/store/' || md5(i::text) || '-nixos-system' end,
           '/nix/store/' || md5(i::text) || '-nixos-system',
           now() - interval '30 days',
           case when i % 13 = 0 then null when i % 4 = 0 then '0.0.9' else '0.1.0' end,
           case when i % 13 = 0 then null when i % 6 = 0 then '24.05.20240605.abcdef0' when i % 5 = 0 then '24.11.20241020.1234567' else '25.05.' || to_char(now() - (i % 20) * interval '1 day', 'YYYYMMDD') || '.89abcde' end,
           case when i % 13 = 0 then null when i % 6 = 0 then date '2024-06-05' when i % 5 = 0 then date '2024-10-20' else (now() - (i % 20) * interval '1 day')::date end,
           case when i % 13 = 0 then null else jsonb_build_object('storeFreeBytes', case when i % 50 = 0 then 2 * 1024^3 else 40 * 1024^3 end,
             'failedUnits', case when i % 97 = 0 then '["nginx.service"]'::jsonb else '[]'::jsonb end, 'load1', (i % 300) / 100.0) end,
           case when i % 13 = 0 then null when i % 41 = 0 then 'rolled-back' else 'succeeded' end,
           case when i % 13 = 0 then null else now() - (i % 30) * interval '1 day' end
    from generate_series(1, ${count}) as i`);
  await db().execute(sql`
    insert into host_configs (host_id, version, module, settings, message)
    select id, 1, '{ }', '{"packages": []}'::jsonb, 'seed' from hosts where org_id = ${org.id}::uuid`);
  if (metricDays > 0) await seedMetrics(org.id, user.id, metricDays);
  await db().execute(sql`analyze`);
  return { orgId: org.id, userId: user.id };
}

/** Days of history as the rollups would have left it: hourly host samples, hourly fleet samples, a few deployments a day. */
async function seedMetrics(orgId: string, userId: string, days: number) {
  await db().execute(sql`
    insert into host_metrics (host_id, resolution, at, online, uptime_seconds, load1, mem_used_bytes, mem_total_bytes, store_free_bytes, failed_units)
    select h.id, 'hour', t, (extract(epoch from t)::bigint / 3600 + hashtext(h.name)) % 9 <> 0, 3600 * 24, (hashtext(h.name) % 100 + 100) / 100.0,
           4 * 1024^3, 16 * 1024^3, 40 * 1024^3 - (extract(epoch from now() - t)::bigint % 1000) * 1024^2, 0
    from hosts h, generate_series(date_trunc('hour', now()) - ${days} * interval '1 day', date_trunc('hour', now()) - interval '1 hour', interval '1 hour') as t
    where h.org_id = ${orgId}::uuid`);
  await db().execute(sql`
    insert into fleet_samples (org_id, resolution, at, total, online, drifted, failed, needs_reboot, low_disk)
    select ${orgId}::uuid, 'hour', t, n.total, n.total * (85 + (extract(hour from t)::int % 10)) / 100, n.total / 11, n.total / 41, 0, n.total / 50
    from generate_series(date_trunc('hour', now()) - ${days} * interval '1 day', date_trunc('hour', now()) - interval '1 hour', interval '1 hour') as t,
         (select count(*)::int as total from hosts where org_id = ${orgId}::uuid) as n`);
  await db().execute(sql`
    insert into deployments (org_id, status, strategy, source, created_by, created_at, started_at, finished_at)
    select ${orgId}::uuid, (case when i % 9 = 0 then 'halted' when i % 7 = 0 then 'failed' else 'succeeded' end)::deployment_status, '{}'::jsonb, 'api', ${userId}::uuid,
           now() - (i * interval '5 hours'), now() - (i * interval '5 hours'), now() - (i * interval '5 hours') + interval '10 minutes'
    from generate_series(1, ${days} * 24 / 5) as i`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const count = Number(process.argv[2] ?? 10_000);
  const days = Number(process.argv[3] ?? 0);
  const { orgId } = await seedFleet(count, days);
  console.log(`seeded ${count} hosts${days ? ` and ${days} days of metrics` : ''} into organisation ${orgId}`);
  process.exit(0);
}
