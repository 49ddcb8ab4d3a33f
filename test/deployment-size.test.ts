// A deployment to more hosts than one statement can name with a parameter each: PostgreSQL
// takes at most 65,535 parameters per statement, and a target row takes five. Docs size
// fleets of 100,000 (docs/scaling.md); creating, releasing and cancelling a deployment
// of 14,000 hosts must work, in statements that take arrays or slices.
import { eq, sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import * as deploymentsRoute from '@/app/api/v1/deployments/route';
import * as cancelRoute from '@/app/api/v1/deployments/[id]/cancel/route';
import { advanceDeployment } from '@/lib/deployments/advance';
import { db } from '@/lib/db/client';
import { deployments, deploymentTargets } from '@/lib/db/schema';
import { call, makeOrg } from './fixtures';

const N = 14_000;

it(`creates, releases and cancels a deployment to ${N.toLocaleString('en-US')} hosts`, { timeout: 120_000 }, async () => {
  const fx = await makeOrg();
  const system = `/nix/store/${'c'.repeat(32)}-nixos-system-size`;
  await db().execute(sql`
    insert into hosts (org_id, name, online, deploy_only, current_system)
    select ${fx.org.id}::uuid, 'size-' || lpad(i::text, 5, '0'), true, true, ${`/nix/store/${'d'.repeat(32)}-nixos-system-old`}
    from generate_series(1, ${N}) as i`);
  // The system as a closure the cache holds (one path, no references), as a CI push leaves it.
  await db().execute(sql`
    insert into cache_objects (org_id, store_hash, store_path, nar_url, file_size, nar_hash, nar_size, "references")
    values (${fx.org.id}, ${'c'.repeat(32)}, ${system}, ${`nar/${'c'.repeat(32)}.nar.xz`}, 1024, ${'sha256:' + '0'.repeat(52)}, 4096, '{}'::text[])`);
  const agents = Object.fromEntries(Array.from({ length: N }, (_, i) => [`size-${String(i + 1).padStart(5, '0')}`, system]));
  const created = await call(deploymentsRoute.POST, { method: 'POST', token: fx.members.operator.token, json: { agents, rollout: { canaries: 0, maxInFlight: '100%' } } });
  expect(created.status, JSON.stringify(created.json).slice(0, 300)).toBe(201);
  const id = created.json.id as string;
  expect(Object.keys(created.json.agents)).toHaveLength(N);

  expect(await advanceDeployment(id)).toBe(true);
  const [released] = await db().select({ n: sql<number>`count(*)::int` }).from(deploymentTargets).where(sql`${deploymentTargets.deploymentId} = ${id} and ${deploymentTargets.releasedAt} is not null`);
  expect(released?.n).toBe(N);

  const cancelled = await call(cancelRoute.POST, { method: 'POST', token: fx.members.operator.token, params: { id } });
  expect(cancelled.status, JSON.stringify(cancelled.json)).toBe(200);
  expect((await db().select().from(deployments).where(eq(deployments.id, id)))[0]?.status).toBe('cancelled');
});
