// Typed jobs and the builds sweep, against real PostgreSQL and pg-boss: a sender is
// typed against the schema the worker parses and is checked before anything is queued;
// the worker refuses a malformed job with the schema's message; a build left queued
// with no job (a crash between the commit and the send) gets one within a minute; a
// running build whose worker died on this machine has its orphaned process group
// killed and goes back to the queue at once, while a live worker's build is left alone.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { and, eq, sql } from 'drizzle-orm';
import PgBoss from 'pg-boss';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as hostsRoute from '@/app/api/v1/hosts/route';
import { BUILD_JOB } from '@/lib/builds/build-job';
import { BUILD_SWEEP_JOB } from '@/lib/builds/sweep';
import { db } from '@/lib/db/client';
import { builds, hosts } from '@/lib/db/schema';
import { JOBS } from '@/lib/jobs/definitions';
import { bootId, groupMembers, startTicks } from '@/lib/jobs/processes';
import { BOSS_SCHEMA, queue, sendJob } from '@/lib/jobs/queue';
import { registerJobs } from '@/lib/jobs/register';
import { InvalidJobPayload, jobSpec, SWEEP_RETRY } from '@/lib/jobs/spec';
import { until } from './agent-harness';
import { call, makeOrg, type OrgFixture } from './fixtures';

let fx: OrgFixture;
let hostId: string;
const bosses: PgBoss[] = [];
const sleepers: number[] = [];

async function startBoss(name: string) {
  const boss = new PgBoss({ connectionString: process.env.DATABASE_URL, schema: BOSS_SCHEMA, max: 2, application_name: name });
  boss.on('error', (error) => console.error(`[${name}]`, error));
  await boss.start();
  bosses.push(boss);
  return boss;
}

/** The build job's jobs for `buildId`, any state. */
async function buildJobs(buildId: string) {
  return db().execute<{ id: string; state: string; output: { message?: string } | null }>(
    sql`select id, state::text as state, output from ${sql.identifier(BOSS_SCHEMA)}.job where name = ${BUILD_JOB.queue} and data->>'buildId' = ${buildId}`,
  );
}

async function insertBuild(values: Partial<typeof builds.$inferInsert> = {}) {
  const [row] = await db()
    .insert(builds)
    .values({ orgId: fx.org.id, hostId, configVersion: 1, inputHash: randomUUID(), ...values })
    .returning({ id: builds.id });
  return (row as { id: string }).id;
}

/** A process group of its own that sleeps: a stand-in for a `nix build` (its leader's pid is the group id). */
function sleeper() {
  const child = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
  child.unref();
  const pid = child.pid as number;
  sleepers.push(pid);
  return { pid, start: startTicks(pid) };
}

/** The pid and start time of a process that has exited. */
async function deadProcess() {
  const child = spawn('true');
  const ref = { pid: child.pid as number, start: startTicks(child.pid as number) ?? 1 };
  await new Promise((resolve) => child.on('exit', resolve));
  return ref;
}

beforeAll(async () => {
  fx = await makeOrg();
  const created = await call(hostsRoute.POST, { method: 'POST', token: fx.members.operator.token, json: { name: `jobs-${Math.random().toString(36).slice(2, 7)}` } });
  expect(created.status).toBe(201);
  const [host] = await db().select({ id: hosts.id }).from(hosts).where(and(eq(hosts.orgId, fx.org.id), eq(hosts.name, created.json.name as string)));
  hostId = (host as { id: string }).id;
});

afterAll(async () => {
  for (const boss of bosses) await boss.stop({ graceful: false, wait: true, timeout: 5_000 });
  await (await queue()).stop({ graceful: true, wait: true, timeout: 5_000 });
  for (const pid of sleepers) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

describe('typed jobs', () => {
  it('the version is part of the queue name: an incompatible change is a new queue', () => {
    const v1 = jobSpec({ name: 'example', version: 1, payload: z.object({}), retry: SWEEP_RETRY });
    const v2 = jobSpec({ name: 'example', version: 2, payload: z.object({ id: z.string() }), retry: SWEEP_RETRY });
    expect(v1.queue).toBe('example');
    expect(v2.queue).toBe('example-v2');
    expect(BUILD_JOB.queue).toBe('build-host-system');
  });

  it('a sender is typed against the payload schema, and a wrong payload is refused before anything is queued', async () => {
    const notUuid = `not-a-uuid-${randomUUID()}`;
    // @ts-expect-error buildId is a string (a uuid), not a number
    await expect(sendJob(BUILD_JOB, { buildId: 42 })).rejects.toThrow(InvalidJobPayload);
    // @ts-expect-error the payload lacks buildId
    await expect(sendJob(BUILD_JOB, {})).rejects.toThrow(/buildId/);
    // Well typed, but not what the worker's schema accepts.
    await expect(sendJob(BUILD_JOB, { buildId: notUuid })).rejects.toThrow(/malformed payload[\s\S]*buildId/);
    expect(await buildJobs(notUuid)).toHaveLength(0);
  });

  it('the worker refuses a malformed job: it fails, with the schema message as its output', async () => {
    const boss = await startBoss('jobs-test-build-worker');
    await registerJobs(boss, JOBS.filter((j) => j.spec === BUILD_JOB), { pollingIntervalSeconds: 0.5, schedules: false });
    // As an old or foreign sender would put it in the queue, past the typed sender.
    const raw = `raw-${randomUUID()}`;
    const id = await (await queue()).send(BUILD_JOB.queue, { buildId: raw }, { retryLimit: 0 });
    expect(id).toBeTruthy();
    const job = await until('the malformed job to fail', async () => {
      const found = await boss.getJobById(BUILD_JOB.queue, id as string);
      return found?.state === 'failed' ? found : null;
    });
    expect(JSON.stringify(job.output)).toMatch(/malformed payload.*buildId/);
    await boss.stop({ graceful: true, wait: true, timeout: 5_000 });
  });
});

describe('the builds sweep', () => {
  let sweeper: PgBoss;
  beforeAll(async () => {
    // Every second instead of every 15: a queued build gets its job after two intervals without one.
    process.env.FLOTILLA_BUILD_SWEEP_SECONDS = '1';
    sweeper = await startBoss('jobs-test-sweeper');
    // Only the sweep: the build jobs it sends stay in the queue where the test can see them.
    const registered = await registerJobs(sweeper, JOBS.filter((j) => j.spec === BUILD_SWEEP_JOB), { pollingIntervalSeconds: 0.5 });
    return () => registered.stop();
  });

  it('a build left queued with no job (the send never happened) gets one within a minute, and only one', async () => {
    const started = Date.now();
    const buildId = await insertBuild({ status: 'queued' });
    const jobs = await until('a job for the queued build', async () => {
      const found = await buildJobs(buildId);
      return found.length > 0 ? found : null;
    }, 60_000);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(jobs[0]?.state).toBe('created');
    // Later sweeps see a job waiting and send no other.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await buildJobs(buildId)).toHaveLength(1);
    expect((await db().select({ status: builds.status }).from(builds).where(eq(builds.id, buildId)))[0]?.status).toBe('queued');
  }, 70_000);

  it('a running build whose worker died on this machine: its orphaned group is killed and it is queued again at once', async () => {
    const dead = await deadProcess();
    const orphan = sleeper();
    const mine = { host: hostname(), bootId: bootId() };
    // The heartbeat is fresh: the dead pid alone says the worker is gone, no 90 s wait.
    const buildId = await insertBuild({
      status: 'running',
      workerId: 'dead-worker',
      workerHost: mine.host,
      workerBootId: mine.bootId,
      workerPid: dead.pid,
      workerStart: dead.start,
      heartbeatAt: new Date(),
      nixPgid: orphan.pid,
      nixStart: orphan.start,
    });
    // A live worker's build (this process), with its own group: left alone.
    const live = sleeper();
    const liveBuildId = await insertBuild({
      status: 'running',
      workerId: 'live-worker',
      workerHost: mine.host,
      workerBootId: mine.bootId,
      workerPid: process.pid,
      workerStart: startTicks(process.pid),
      heartbeatAt: new Date(),
      nixPgid: live.pid,
      nixStart: live.start,
    });
    expect(groupMembers(orphan.pid)).toEqual([orphan.pid]);

    await until('the build queued again with a job', async () => {
      const [row] = await db().select().from(builds).where(eq(builds.id, buildId));
      return row?.status === 'queued' && (await buildJobs(buildId)).length > 0;
    }, 30_000);
    expect(groupMembers(orphan.pid)).toEqual([]);
    const [row] = await db().select().from(builds).where(eq(builds.id, buildId));
    expect(row).toMatchObject({ workerId: null, nixPgid: null });

    const [liveRow] = await db().select().from(builds).where(eq(builds.id, liveBuildId));
    expect(liveRow).toMatchObject({ status: 'running', workerId: 'live-worker', nixPgid: live.pid });
    expect(groupMembers(live.pid)).toEqual([live.pid]);
    expect(await buildJobs(liveBuildId)).toHaveLength(0);
  });
});
