// One host end to end: what Flotilla adds to putting a system on a host, against the
// same Nix commands run by hand (bench/deploy-raw.ts), measured in the same run.
//
// Flotilla side, real pieces only: the API route handlers (config save, build request,
// deployment), the outbox and pg-boss (the build job, polled as worker.ts polls it),
// runBuild (jailed `nix build`, closure, signed push into the cache), the WebSocket
// gateway, the rollout driver and outbox dispatcher at a worker's defaults, the binary
// cache over HTTP, and the real agent program on a simulated host (--store-root).
//   (a) build:  config save → build `succeeded` (built, signed, in the cache)
//   (b) deploy: deployment API call → the agent fetched, switched, was confirmed, and the
//               target's result is recorded `succeeded`
// Raw side: `nix build` + `nix copy --to file://…?secret-key` for (a); `nix copy --from`
// + `nix-env --set` + `switch-to-configuration switch` for (b): the sum of the commands'
// own times. `raw+extra` adds the other Nix commands Flotilla runs on the way (the
// worker's `nix path-info -r`; the agent's `nix path-info -S` and `dry-activate`), so
// what is left of the overhead is Flotilla itself: API, database, queue, WebSocket,
// HTTP cache, the build's jail, the agent's journal and the confirmation.
//
// Every run builds a fresh small system (a new motd) on each side, Flotilla's and raw
// runs alternating, after one warm-up run of each that is not counted.
//   npm run bench:deploy [-- --runs 5]   (embedded PostgreSQL, or DATABASE_URL's server)
import { randomBytes } from 'node:crypto';
import { readFileSync, watch } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { and, eq } from 'drizzle-orm';
import PgBoss from 'pg-boss';
import * as deploymentsRoute from '@/app/api/v1/deployments/route';
import * as buildsRoute from '@/app/api/v1/hosts/[name]/builds/route';
import * as hostConfig from '@/app/api/v1/hosts/[name]/config/route';
import * as hostsRoute from '@/app/api/v1/hosts/route';
import { BUILD_JOB } from '@/lib/builds/build-job';
import { cacheDir } from '@/lib/cache/storage';
import { closeDb, db } from '@/lib/db/client';
import type { TBuildInputs } from '@/lib/db/json-types';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '@/lib/db/embedded';
import { runMigrations } from '@/lib/db/migrate';
import { builds, deployments, deploymentTargets, hosts } from '@/lib/db/schema';
import { isFinalDeployment, isFinalPhase } from '@/lib/db/statuses';
import { startRolloutDriver } from '@/lib/deployments/driver';
import { resetEnvCache } from '@/lib/env';
import { startOutboxDispatcher } from '@/lib/events/dispatch';
import { JOBS } from '@/lib/jobs/definitions';
import { BOSS_SCHEMA, queue } from '@/lib/jobs/queue';
import { registerJobs } from '@/lib/jobs/register';
import { runAgent, startHarness, until, type AgentProcess } from '../test/agent-harness';
import { createDatabase, databaseUrl, dropDatabasesLike, uniqueName } from '../test/databases';
import { call, makeOrg } from '../test/fixtures';
import { jailCost, rawBuild, rawDeploy, timed, type RawHost } from './deploy-raw';

const { values: flags } = parseArgs({ options: { runs: { type: 'string' } } });
const RUNS = Number(flags.runs ?? process.env.BENCH_RUNS ?? 5);
if (!Number.isInteger(RUNS) || RUNS < 1 || RUNS > 50) throw new Error('--runs takes 1 to 50');
/** Each wait is bounded: a stuck build or deployment fails the bench instead of hanging it. */
const STAGE_TIMEOUT_MS = 5 * 60_000;

const tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-bench-deploy-'));
// An embedded PostgreSQL runs as the user postgres, which must be able to reach its directory inside.
await chmod(tmp, 0o711);
const serverUrl = process.env.DATABASE_URL;
const dbName = uniqueName('flotilla_bench');
let embedded: EmbeddedDatabase | undefined;
let server = '';

/** A run's total, and when each milestone came, in ms since the stage started (NaN: not seen). */
type Sample = { total: number; at: Record<string, number> };
/** The raw side also times the extra commands Flotilla runs (`withExtra`: the core sequence and those). */
type RawSample = Sample & { withExtra: number };
const ms = (a: Date | null | undefined, b: Date | null | undefined) => (a && b ? b.getTime() - a.getTime() : NaN);

let agent: AgentProcess | undefined;
const stoppers: (() => Promise<unknown>)[] = [];
/** Stops everything this bench started and removes what it made, once (the end of the run, or Ctrl-C). */
let cleaning: Promise<void> | undefined;
const cleanup = () =>
  (cleaning ??= (async () => {
    if (agent && agent.child.exitCode === null) {
      agent.child.kill('SIGTERM');
      const stopped = await Promise.race([agent.exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 5_000))]);
      if (!stopped) agent.child.kill('SIGKILL');
    }
    for (const stop of stoppers.reverse()) await stop().catch((error: unknown) => console.error('[bench] stopping:', error));
    await closeDb();
    if (server) await dropDatabasesLike(server, dbName);
    await embedded?.stop();
    await rm(tmp, { recursive: true, force: true });
  })());
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`[bench] ${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}
let failed = false;
try {
  embedded = serverUrl ? undefined : await startEmbeddedPostgres(path.join(tmp, 'pg'));
  server = serverUrl ?? (embedded?.url as string);
  await createDatabase(server, dbName);
  process.env.DATABASE_URL = databaseUrl(server, dbName);
  process.env.FLOTILLA_DATA_DIR = path.join(tmp, 'data');
  // As `npm start` does before the worker runs: builds make their directories inside it.
  await mkdir(process.env.FLOTILLA_DATA_DIR, { recursive: true });
  process.env.AUTH_SECRET ??= randomBytes(24).toString('hex');
  // Never wait on the public cache, and never reuse a remembered "not in the cache" (as the tests do).
  process.env.FLOTILLA_NIX_CONFIG = 'substituters =\nnarinfo-cache-negative-ttl = 0';
  process.env.XDG_CACHE_HOME = path.join(tmp, 'xdg');
  await mkdir(process.env.XDG_CACHE_HOME, { recursive: true });
  resetEnvCache();
  await runMigrations(process.env.DATABASE_URL);
  const fx = await makeOrg();
  const operator = fx.members.operator;

  // The server's agent-facing pieces (enrol, cache, gateway), with the worker's driver
  // and outbox dispatcher at their production intervals rather than the tests' faster ones.
  const harness = await startHarness({ driver: false });
  stoppers.push(() => harness.close());
  const driver = startRolloutDriver({ log: () => {} });
  stoppers.push(() => driver.stop());
  const outbox = startOutboxDispatcher({ log: () => {} });
  stoppers.push(() => outbox.stop());
  // The build job as worker.ts runs it: pg-boss with the worker's polling interval.
  const boss = new PgBoss({ connectionString: process.env.DATABASE_URL, schema: BOSS_SCHEMA, application_name: 'flotilla-worker', max: 4 });
  boss.on('error', (error) => console.error('[bench] pg-boss error', error));
  await boss.start();
  stoppers.push(() => boss.stop({ graceful: false, wait: true }));
  // A failed attempt is retried by pg-boss after 30 s: say why, rather than only taking longer.
  const buildJob = JOBS.filter((j) => j.name === BUILD_JOB.name).map((j) => ({
    ...j,
    run: (raw: unknown) =>
      j.run(raw).catch((error: unknown) => {
        console.error('[bench] the build job failed:', error);
        throw error;
      }),
  }));
  const jobs = await registerJobs(boss, buildJob, { schedules: false });
  stoppers.push(async () => jobs.stop());
  stoppers.push(async () => (await queue()).stop({ graceful: false, wait: true }));

  // The simulated host: created through the API, its real agent enrolled and running on a store root of its own.
  const host = `bench-${randomBytes(3).toString('hex')}`;
  const created = await call(hostsRoute.POST, { method: 'POST', token: operator.token, json: { name: host } });
  if (created.status !== 201) throw new Error(`creating the host: ${JSON.stringify(created.json)}`);
  const hostDir = path.join(tmp, 'host');
  const stateDir = path.join(hostDir, 'state');
  const activations = path.join(hostDir, 'activations.log');
  await mkdir(hostDir, { recursive: true });
  await writeFile(activations, '');
  const enrol = runAgent(['enroll', '--server', harness.base, '--token', created.json.enrollToken, '--state-dir', stateDir]);
  if ((await enrol.exited) !== 0) throw new Error(`enrolment failed:\n${enrol.output()}`);
  agent = runAgent(['run', '--state-dir', stateDir, '--store-root', path.join(hostDir, 'root')], { FLOTILLA_ACTIVATION_LOG: activations });
  const running = agent;
  const [hostRow] = await until('the agent to connect', async () => {
    const rows = await db().select().from(hosts).where(and(eq(hosts.orgId, fx.org.id), eq(hosts.name, host)));
    return rows[0]?.online ? rows : undefined;
  });
  const hostId = hostRow?.id as string;
  const agentFailure = (e: Error) => {
    throw new Error(`${e.message}\nagent:\n${running.output()}`);
  };

  // The raw host: a store root, a file:// cache and a signing key of its own.
  const raw: RawHost = {
    root: path.join(tmp, 'raw', 'root'),
    cacheDir: path.join(tmp, 'raw', 'cache'),
    secretKeyFile: path.join(tmp, 'raw', 'key.sec'),
    publicKey: '',
    activations: path.join(tmp, 'raw', 'activations.log'),
  };
  await mkdir(raw.cacheDir, { recursive: true });
  await writeFile(raw.activations, '');
  const publicKeyFile = path.join(tmp, 'raw', 'key.pub');
  await timed('nix-store', ['--generate-binary-cache-key', 'bench-raw-1', raw.secretKeyFile, publicKeyFile]);
  raw.publicKey = (await readFile(publicKeyFile, 'utf8')).trim();

  // A unit file that differs each run (the stand-in keeps it in the closure): a new toplevel and a new path to build, push and fetch.
  const module = (name: string, nonce: string) => `{ ... }: { networking.hostName = "${name}"; flotilla.test.serviceUnits."bench.service" = "[Unit]\\nDescription=${nonce}\\n"; }`;
  /** Every run's system is new on both sides: nothing is already built, cached or fetched. */
  const systemsSeen = new Set<string>();
  const fresh = (storePath: string) => {
    if (systemsSeen.has(storePath)) throw new Error(`${storePath} was built before: the run is not fresh`);
    systemsSeen.add(storePath);
  };
  let version = 1;
  let inputs: TBuildInputs | undefined;

  /** (a) on Flotilla: save a new config through the API, ask for its build, wait for it to succeed. */
  async function flotillaBuild(nonce: string): Promise<Sample & { storePath: string }> {
    const t0 = new Date();
    const saved = await call(hostConfig.PUT, { method: 'PUT', token: operator.token, params: { name: host }, json: { module: module(host, nonce), packages: ['hello'], baseVersion: version } });
    if (saved.status !== 200) throw new Error(`saving the config: ${JSON.stringify(saved.json)}`);
    version = saved.json.version;
    const savedAt = new Date();
    const requested = await call(buildsRoute.POST, { method: 'POST', token: operator.token, params: { name: host } });
    if (requested.status !== 202 || requested.json.reused) throw new Error(`requesting the build: ${JSON.stringify(requested.json)}`);
    const build = await until(
      'the build to finish',
      async () => {
        const [row] = await db().select().from(builds).where(eq(builds.id, requested.json.buildId));
        return row && ['succeeded', 'failed'].includes(row.status) ? row : undefined;
      },
      STAGE_TIMEOUT_MS,
    );
    if (build.status !== 'succeeded' || !build.storePath) throw new Error(`the build failed: ${build.error}\n${build.log}`);
    // Signed in the cache, as agents will fetch it.
    const narinfo = await readFile(path.join(cacheDir(fx.org.id), `${path.basename(build.storePath).slice(0, 32)}.narinfo`), 'utf8');
    if (!/^Sig: /m.test(narinfo)) throw new Error(`${build.storePath} is in the cache unsigned`);
    inputs = build.inputs as TBuildInputs;
    fresh(build.storePath);
    return {
      storePath: build.storePath,
      total: ms(t0, build.finishedAt),
      at: {
        'config saved (PUT returned)': ms(t0, savedAt),
        'build row queued (POST …/builds)': ms(t0, build.createdAt),
        'claimed by the worker (pg-boss)': ms(t0, build.startedAt),
        'succeeded: built, pushed, signed': ms(t0, build.finishedAt),
      },
    };
  }

  /**
   * The agent's own record of its steps: each journal write carries the agent's clock
   * (updatedAt), so reading it a little late still gives the step's time. A step that
   * was overwritten before it was read is missing (a dash in the table).
   */
  function watchJournal() {
    const dir = path.join(stateDir, 'journal');
    const seen = new Map<string, Map<string, Date>>();
    // Read at once, in the callback: a step the agent leaves within a millisecond is otherwise gone.
    const read = (file: string) => {
      try {
        const text = readFileSync(path.join(dir, file), 'utf8');
        const entry = JSON.parse(text) as { targetId: string; step: string; updatedAt: string };
        const steps = seen.get(entry.targetId) ?? new Map<string, Date>();
        seen.set(entry.targetId, steps);
        if (!steps.has(entry.step)) steps.set(entry.step, new Date(entry.updatedAt));
      } catch {
        // Renamed away (a temporary file) or caught between writes: the next event reads it whole.
      }
    };
    const watcher = watch(dir, (_event, file) => {
      if (file?.endsWith('.json')) read(file);
    });
    return { steps: (targetId: string) => seen.get(targetId) ?? new Map<string, Date>(), close: () => watcher.close() };
  }
  await mkdir(path.join(stateDir, 'journal'), { recursive: true, mode: 0o700 });
  const journal = watchJournal();
  stoppers.push(async () => journal.close());

  /** (b) on Flotilla: a one-host deployment through the API, until the agent's result is recorded. */
  async function flotillaDeploy(storePath: string): Promise<Sample> {
    const t0 = new Date();
    // One host, no canary: a canary's watch would only delay the deployment's status, not the host.
    const posted = await call(deploymentsRoute.POST, { method: 'POST', token: operator.token, json: { agents: { [host]: storePath }, rollout: { canaries: 0 } } });
    if (posted.status !== 201) throw new Error(`creating the deployment: ${JSON.stringify(posted.json)}`);
    const postedAt = new Date();
    const target = await until(
      'the target to end',
      async () => {
        const [row] = await db().select().from(deploymentTargets).where(eq(deploymentTargets.deploymentId, posted.json.id));
        return row && isFinalPhase(row.phase) ? row : undefined;
      },
      STAGE_TIMEOUT_MS,
    ).catch(agentFailure);
    if (target.phase !== 'succeeded') throw new Error(`the target ended ${target.phase}: ${target.error ?? target.rollbackReason}\n${target.log}\nagent:\n${running.output()}`);
    // The next run's deployment starts only once this one is closed.
    const deployment = await until(
      'the deployment to close',
      async () => {
        const [row] = await db().select().from(deployments).where(eq(deployments.id, posted.json.id));
        return row && isFinalDeployment(row.status) ? row : undefined;
      },
      STAGE_TIMEOUT_MS,
    );
    const [after] = await db().select().from(hosts).where(eq(hosts.id, hostId));
    if (after?.currentSystem !== storePath) throw new Error(`the host reports ${after?.currentSystem}, not ${storePath}`);
    const last = (await readFile(activations, 'utf8')).trim().split('\n').at(-1);
    if (last !== `switch ${storePath}`) throw new Error(`the simulated host's last activation was "${last}", not the switch to ${storePath}`);
    const step = journal.steps(target.id);
    return {
      total: ms(t0, target.finishedAt),
      at: {
        // Released inside the API call's transaction, before it returns.
        'target released': ms(t0, target.releasedAt),
        'deployment created (POST returned)': ms(t0, postedAt),
        'sent to the agent': ms(t0, target.sentAt),
        'agent: received': ms(t0, step.get('received')),
        'agent: downloading (closure size, nix copy)': ms(t0, step.get('downloading')),
        'agent: fetched; checking (dry-activate)': ms(t0, step.get('checking')),
        'agent: checked': ms(t0, step.get('checked')),
        'agent: snapshotted': ms(t0, step.get('snapshotted')),
        'agent: profile set': ms(t0, step.get('profile-set')),
        'agent: switched': ms(t0, step.get('switched')),
        'agent: health checked, confirming': ms(t0, step.get('confirming')),
        'server: confirmedAt': ms(t0, target.confirmedAt),
        'agent: done (confirmed)': ms(t0, step.get('done')),
        'server: result recorded succeeded': ms(t0, target.finishedAt),
        'deployment closed (not in the total)': ms(t0, deployment.finishedAt),
      },
    };
  }

  /** The raw side: its steps' durations, as milestones since its start. */
  const cumulative = (durations: Record<string, number>) => {
    let sum = 0;
    return Object.fromEntries(Object.entries(durations).map(([k, v]) => [k, (sum += v)]));
  };

  /** The commands Flotilla runs besides the core sequence, shown on their own lines (not milestones: their time is their own). */
  const extras = (durations: Record<string, number>) => Object.fromEntries(Object.entries(durations).map(([k, v]) => [`+ ${k}`, v]));

  async function rawRun(nonce: string) {
    if (!inputs) throw new Error('the raw build copies the inputs of a Flotilla build: run one first');
    const name = 'raw-bench';
    const built = await rawBuild(raw, path.join(tmp, 'raw', `flake-${nonce}`), name, { ...inputs, hostModule: module(name, nonce) });
    const sum = (durations: Record<string, number>) => Object.values(durations).reduce((a, b) => a + b, 0);
    const build = { total: sum(built.phases), withExtra: sum(built.phases) + sum(built.extra), at: { ...cumulative(built.phases), ...extras(built.extra) } };
    fresh(built.storePath);
    const deployed = await rawDeploy(raw, built.storePath);
    return { build, deploy: { total: sum(deployed.phases), withExtra: sum(deployed.phases) + sum(deployed.extra), at: { ...cumulative(deployed.phases), ...extras(deployed.extra) } } };
  }

  const samples = { build: [] as Sample[], deploy: [] as Sample[], rawBuild: [] as RawSample[], rawDeploy: [] as RawSample[] };
  console.log(`bench:deploy: ${RUNS} runs (after 1 warm-up) of a fresh small system on each side; ${embedded ? 'embedded PostgreSQL' : 'DATABASE_URL'}`);
  for (let i = -1; i < RUNS; i++) {
    const nonce = `${i < 0 ? 'warmup' : `run${i}`}-${randomBytes(4).toString('hex')}`;
    const b = await flotillaBuild(`flotilla-${nonce}`);
    const d = await flotillaDeploy(b.storePath);
    const r = await rawRun(nonce);
    if (i < 0) continue;
    samples.build.push(b);
    samples.deploy.push(d);
    samples.rawBuild.push(r.build);
    samples.rawDeploy.push(r.deploy);
    console.log(`  run ${i + 1}: build ${b.total.toFixed(0)} ms (raw ${r.build.total.toFixed(0)}), deploy ${d.total.toFixed(0)} ms (raw ${r.deploy.total.toFixed(0)})`);
  }

  const p50 = (xs: number[]) => {
    const sorted = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
    return sorted.length ? (sorted[Math.floor(sorted.length / 2)] as number) : NaN;
  };
  const cell = (v: number, width: number) => (Number.isNaN(v) ? '–' : v.toFixed(0)).padStart(width);
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  console.log(
    `\n${'stage'.padEnd(8)}${'Flotilla p50'.padStart(14)}${'raw p50'.padStart(10)}${'overhead'.padStart(10)}${'ratio'.padStart(8)}${'raw+extra p50'.padStart(15)}${'overhead'.padStart(10)}${'ratio'.padStart(8)}   (ms)`,
  );
  for (const [stage, ours, base] of [
    ['build', samples.build, samples.rawBuild],
    ['deploy', samples.deploy, samples.rawDeploy],
  ] as const) {
    const f = p50(ours.map((s) => s.total));
    const r = p50(base.map((s) => s.total));
    const x = p50(base.map((s) => s.withExtra));
    console.log(`${stage.padEnd(8)}${cell(f, 14)}${cell(r, 10)}${cell(f - r, 10)}${ratio(f, r).padStart(8)}${cell(x, 15)}${cell(f - x, 10)}${ratio(f, x).padStart(8)}`);
  }
  for (const [title, list] of [
    ['Flotilla build', samples.build],
    ['raw build', samples.rawBuild],
    ['Flotilla deploy (server and agent timestamps)', samples.deploy],
    ['raw deploy', samples.rawDeploy],
  ] as const) {
    console.log(`\n${title.padEnd(52)}${'p50 at'.padStart(8)}${'p50 step'.padStart(10)}   (ms since the stage started)`);
    const names = Object.keys(list[0]?.at ?? {});
    for (const milestone of names.filter((m) => !m.startsWith('+ '))) {
      const seen = list.filter((s) => !Number.isNaN(s.at[milestone]));
      // Each run's own step, from the milestone before it that this run saw, then their median.
      const steps = seen.map((s) => {
        const before = names.slice(0, names.indexOf(milestone)).filter((m) => !m.startsWith('+ ') && !Number.isNaN(s.at[m]));
        return (s.at[milestone] as number) - (before.length ? (s.at[before.at(-1) as string] as number) : 0);
      });
      const note = seen.length < list.length ? `   (seen in ${seen.length} of ${list.length} runs)` : '';
      console.log(`  ${milestone.padEnd(50)}${cell(p50(seen.map((s) => s.at[milestone] as number)), 8)}${cell(p50(steps), 10)}${note}`);
    }
    for (const milestone of names.filter((m) => m.startsWith('+ '))) {
      console.log(`  ${milestone.padEnd(50)}${''.padStart(8)}${cell(p50(list.map((s) => s.at[milestone] as number)), 10)}   (not in the raw total)`);
    }
  }
  const jail = await jailCost(path.join(tmp, 'jail'));
  console.log(`\nthe build's jail: \`nix --version\` p50 ${jail.plain.toFixed(0)} ms plain, ${jail.jailed.toFixed(0)} ms jailed (+${(jail.jailed - jail.plain).toFixed(0)} ms per jailed Nix command)`);
} catch (error) {
  failed = true;
  console.error('[bench] failed:', error);
} finally {
  await cleanup();
}
process.exit(failed ? 1 : 0);
