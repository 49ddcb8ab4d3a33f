// Seeds an organisation with many hosts (names, tags, presence, systems) in a few
// statements. Used by the benchmarks; `npx tsx bench/seed.ts 10000` seeds DATABASE_URL.
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { db } from '@/lib/db/client';
import { fleetSettings, memberships, organizations, users } from '@/lib/db/schema';

export async function seedFleet(count: number) {
  const suffix = randomBytes(3).toString('hex');
  const [org] = await db().insert(organizations).values({ name: `Bench ${suffix}`, slug: `bench-${suffix}` }).returning();
  const [user] = await db().insert(users).values({ email: `bench-${suffix}@example.com`, name: 'Bench' }).returning();
  if (!org || !user) throw new Error('seed failed');
  await db().insert(memberships).values({ orgId: org.id, userId: user.id, role: 'operator' });
  await db().insert(fleetSettings).values({ orgId: org.id });
  // One statement for the hosts and one for their first config version.
  await db().execute(sql`
    insert into hosts (org_id, name, tags, online, last_seen, current_system, desired_system, booted_system, enrolled_at)
    select ${org.id}::uuid,
           (array['web','db','cache','build','laptop'])[1 + i % 5] || '-' || lpad(i::text, 5, '0'),
           array[(array['web','db','cache','build','laptop'])[1 + i % 5], (array['eu','us','ap'])[1 + i % 3]] || case when i % 10 = 0 then array['canary'] else array[]::text[] end,
           i % 7 <> 0,
           case when i % 13 = 0 then null else now() - (i % 600) * interval '1 minute' end,
           '/nix/store/' || md5(i::text) || '-nixos-system',
           case when i % 11 = 0 then '/nix/store/' || md5((i + 1)::text) || '-nixos-system' else '/nix/store/' || md5(i::text) || '-nixos-system' end,
           '/nix/store/' || md5(i::text) || '-nixos-system',
           now() - interval '30 days'
    from generate_series(1, ${count}) as i`);
  await db().execute(sql`
    insert into host_configs (host_id, version, module, settings, message)
    select id, 1, '{ }', '{"packages": []}'::jsonb, 'seed' from hosts where org_id = ${org.id}::uuid`);
  await db().execute(sql`analyze hosts`);
  return { orgId: org.id, userId: user.id };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const count = Number(process.argv[2] ?? 10_000);
  const { orgId } = await seedFleet(count);
  console.log(`seeded ${count} hosts into organisation ${orgId}`);
  process.exit(0);
}
