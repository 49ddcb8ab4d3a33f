// The `build-host-system` job: claim the build (only one worker can), write the
// flake, run `nix build`, stream progress and log into the build row, push the
// closure to the signed cache, record its paths and the closure diff.
//
// A build's `nix` runs in a process group of its own (lib/nix/run.ts), recorded on the
// row with the worker's machine, boot and pid. Whoever takes a build over (a retried
// job, or the sweep in ./sweep.ts) kills the old group first when it is on this machine,
// then builds again: a worker killed with SIGKILL leaves no second `nix build` running
// beside the new one. A worker that stops (SIGTERM) kills its groups and puts its
// builds back in the queue.
import { mkdir, rm } from 'node:fs/promises';
import { homedir, hostname } from 'node:os';
import path from 'node:path';
import { and, desc, eq, isNotNull, isNull, lt, sql } from 'drizzle-orm';
import { z } from 'zod';
import { db } from '@/lib/db/client';
import type { TBuildInputs } from '@/lib/db/json-types';
import { buildPaths, builds, hosts, type Host } from '@/lib/db/schema';
import { env } from '@/lib/env';
import { groupGone, isAlive, killGroup, onThisMachine, thisProcess } from '@/lib/jobs/processes';
import { makeTempDir } from '@/lib/jobs/temp-dirs';
import { buildNetwork } from '@/lib/nix/build-network';
import { NixProgressReader } from '@/lib/nix/progress';
import { runNix } from '@/lib/nix/run';
import { requireBuildSandbox } from '@/lib/nix/sandbox-check';
import { knownSecrets, redactSecrets } from '@/lib/nix/secrets';
import { pushClosure, storeHashOf } from '@/lib/cache/storage';
import { closureOf, diffClosures, recordClosurePackages, type PathInfo } from './closure';
import { localFlakeDir, writeBuildFlake } from './flake';

export const WORKER_ID = `${hostname()}:${process.pid}`;
/** A running build whose worker has not reported for this long is taken over. */
export const STALE_AFTER_MS = 90_000;
const HEARTBEAT_MS = 1_000;
const MAX_LOG_CHARS = 2_000_000;

const ZBuildOutput = z.array(z.object({ outputs: z.object({ out: z.string() }) })).min(1);

type Build = typeof builds.$inferSelect;
type WorkerRecord = Pick<Build, 'workerHost' | 'workerBootId' | 'workerPid' | 'workerStart' | 'heartbeatAt'>;
type GroupRecord = Pick<Build, 'workerHost' | 'workerBootId' | 'nixPgid' | 'nixStart'>;

/**
 * The worker of a running build is gone: on this machine, when its pid is no longer the
 * same process (at once, whatever its heartbeat says; and never while it lives, so a
 * live worker's nix is never killed from here); elsewhere, when it has been silent for
 * STALE_AFTER_MS.
 */
export function workerGone(row: WorkerRecord): 'dead' | 'silent' | null {
  if (row.workerPid !== null && onThisMachine({ host: row.workerHost, bootId: row.workerBootId })) {
    return isAlive({ pid: row.workerPid, start: row.workerStart }) ? null : 'dead';
  }
  if (!row.heartbeatAt || row.heartbeatAt.getTime() < Date.now() - STALE_AFTER_MS) return 'silent';
  return null;
}

/**
 * Kills the `nix build` a gone worker left running, when it runs on this machine; a
 * group on another machine is left to that machine's next worker. Waits until the group is empty.
 */
export async function killOrphan(buildId: string, row: GroupRecord) {
  if (row.nixPgid === null || !onThisMachine({ host: row.workerHost, bootId: row.workerBootId })) return;
  const killed = killGroup({ pid: row.nixPgid, start: row.nixStart }, 'SIGKILL');
  if (killed.length === 0) return;
  console.error(`[builds] build ${buildId}: killed the orphaned nix process group ${row.nixPgid} (${killed.length} processes) of a dead worker`);
  if (!(await groupGone(row.nixPgid))) throw new Error(`build ${buildId}: the orphaned nix process group ${row.nixPgid} did not die`);
}

/** The columns a claim writes: this worker, where it runs, and no nix group yet. */
function ownedBy(workerId: string) {
  const me = thisProcess();
  return { workerId, workerHost: me.host, workerBootId: me.bootId, workerPid: me.pid, workerStart: me.start, nixPgid: null, nixStart: null };
}

/** The row as `workerId` claimed it: a worker taken over (it went silent) writes nothing more. */
function owned(buildId: string, workerId: string) {
  return and(eq(builds.id, buildId), eq(builds.workerId, workerId));
}

/**
 * Claims a queued build, or takes over a running one whose worker is gone (killing its
 * orphaned nix first, see killOrphan). Returns null if someone else has it. The update is
 * guarded on the state that was read, so of two claimers one wins.
 */
export async function claimBuild(buildId: string, workerId = WORKER_ID) {
  const [row] = await db().select().from(builds).where(eq(builds.id, buildId));
  if (!row) return null;
  let guard;
  if (row.status === 'queued') {
    guard = eq(builds.status, 'queued');
  } else if (row.status === 'running') {
    const gone = workerGone(row);
    if (!gone) return null;
    await killOrphan(buildId, row);
    guard = and(
      eq(builds.status, 'running'),
      row.workerId === null ? isNull(builds.workerId) : eq(builds.workerId, row.workerId),
      // A silent worker that speaks again keeps its build.
      gone === 'silent' ? lt(builds.heartbeatAt, new Date(Date.now() - STALE_AFTER_MS)) : undefined,
    );
  } else {
    return null;
  }
  const [claimed] = await db()
    .update(builds)
    .set({ status: 'running', ...ownedBy(workerId), heartbeatAt: new Date(), startedAt: sql`coalesce(${builds.startedAt}, now())` })
    .where(and(eq(builds.id, buildId), guard))
    .returning();
  // Started before (by a worker that died, went silent or stopped): the log says it was taken over.
  return claimed ? { ...claimed, takenOver: row.startedAt !== null } : null;
}

/**
 * Puts a running build whose worker is gone back in the queue, after killing its
 * orphaned nix (the sweep, ./sweep.ts). False when it was not gone or someone else moved it first.
 */
export async function releaseGoneBuild(buildId: string): Promise<boolean> {
  const [row] = await db().select().from(builds).where(eq(builds.id, buildId));
  if (!row || row.status !== 'running') return false;
  const gone = workerGone(row);
  if (!gone) return false;
  await killOrphan(buildId, row);
  const released = await db()
    .update(builds)
    .set({ status: 'queued', workerId: null, nixPgid: null, nixStart: null })
    .where(
      and(
        eq(builds.id, buildId),
        eq(builds.status, 'running'),
        row.workerId === null ? isNull(builds.workerId) : eq(builds.workerId, row.workerId),
        gone === 'silent' ? lt(builds.heartbeatAt, new Date(Date.now() - STALE_AFTER_MS)) : undefined,
      ),
    )
    .returning({ id: builds.id });
  return released.length > 0;
}

/** This process's builds in progress, so that a stopping worker can stop them. */
const inProgress = new Map<string, AbortController>();
let stopping = false;

/** A build handed back to the queue because its worker is stopping: pg-boss retries the job elsewhere. */
export class BuildReleased extends Error {}

/**
 * The worker is stopping: no new build starts here, and those in progress have their
 * nix process groups killed and go back to the queue (status queued; their jobs fail
 * and are retried by pg-boss, or re-sent by the sweep). Resolves when they have.
 */
export async function stopBuilds(timeoutMs = 10_000) {
  stopping = true;
  for (const controller of inProgress.values()) controller.abort();
  const end = Date.now() + timeoutMs;
  while (inProgress.size > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
}

/** Collects log lines and progress and writes them to the row about once a second; Flotilla's secrets never reach the row. */
class BuildReporter {
  private pending = '';
  private timer: NodeJS.Timeout;
  private flushing = Promise.resolve();
  readonly reader = new NixProgressReader();
  stage = 'evaluating';
  /** Nix's last `error:` message: what a failed build says went wrong. */
  lastError: string | null = null;
  private secrets = knownSecrets(process.env, env().dataDir);

  constructor(
    private buildId: string,
    private workerId: string,
  ) {
    this.timer = setInterval(() => void this.flush(), HEARTBEAT_MS);
  }

  redact(text: string) {
    return redactSecrets(text, this.secrets);
  }

  line(text: string) {
    const fed = this.reader.feed(text);
    if (fed === null) return;
    const logLine = this.redact(fed);
    this.pending += `${logLine}\n`;
    if (logLine.startsWith('error:')) this.lastError = logLine.slice(0, 4000);
  }

  note(text: string) {
    this.pending += `${this.redact(text)}\n`;
  }

  flush() {
    const chunk = this.pending;
    this.pending = '';
    const progress = { stage: this.stage, ...this.reader.progress };
    this.flushing = this.flushing.then(async () => {
      await db()
        .update(builds)
        .set({ log: sql`right(${builds.log} || ${chunk}, ${MAX_LOG_CHARS})`, progress, heartbeatAt: new Date() })
        .where(owned(this.buildId, this.workerId));
    });
    return this.flushing;
  }

  async close() {
    clearInterval(this.timer);
    await this.flush();
  }
}

async function closureFromBuild(buildId: string): Promise<PathInfo[]> {
  const rows = await db().select().from(buildPaths).where(eq(buildPaths.buildId, buildId));
  return rows.map((r) => ({ path: r.storePath, narSize: r.narSize, references: [] }));
}

async function diffAgainst(host: Host, buildId: string, closure: PathInfo[]) {
  const previous = await db()
    .select({ id: builds.id, storePath: builds.storePath })
    .from(builds)
    .where(and(eq(builds.hostId, host.id), eq(builds.status, 'succeeded'), eq(builds.preview, false), isNotNull(builds.storePath), sql`${builds.id} <> ${buildId}`))
    .orderBy(desc(builds.finishedAt))
    .limit(1);
  const prev = previous[0];
  const againstPrevious = prev ? { buildId: prev.id, ...diffClosures(await closureFromBuild(prev.id), closure) } : null;
  let againstCurrent = null;
  if (host.currentSystem) {
    const [known] = await db()
      .select({ id: builds.id })
      .from(builds)
      .where(and(eq(builds.hostId, host.id), eq(builds.storePath, host.currentSystem)))
      .limit(1);
    const current = known ? await closureFromBuild(known.id) : await closureOf(host.currentSystem).catch(() => null);
    if (current?.length) againstCurrent = { storePath: host.currentSystem, ...diffClosures(current, closure) };
  }
  return { againstPrevious, againstCurrent };
}

/** Where the evaluating `nix` sees the build's flake. */
const JAILED_FLAKE = '/flotilla/flake';

/**
 * What the evaluating `nix` may see besides the system (lib/nix/jail.ts): the build's
 * flake (at JAILED_FLAKE, not inside a copy of the data directory's path), a local
 * nixpkgs source, and Nix's fetcher cache (so a real nixpkgs is not downloaded again
 * for every build). Nix's build directories go to `dir`/tmp, on disk.
 */
async function buildJail(dir: string, inputs: TBuildInputs) {
  const cacheHome = process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
  await mkdir(path.join(cacheHome, 'nix'), { recursive: true });
  await mkdir(path.join(dir, 'root'));
  await mkdir(path.join(dir, 'tmp'));
  const nixpkgs = localFlakeDir(inputs.nixpkgs.flakeRef);
  return {
    jail: {
      mountpoint: path.join(dir, 'root'),
      tmp: path.join(dir, 'tmp'),
      paths: [path.join(cacheHome, 'nix'), ...(nixpkgs ? [nixpkgs] : [])],
      mapped: [{ from: path.join(dir, 'flake'), to: JAILED_FLAKE }],
    },
    env: { XDG_CACHE_HOME: cacheHome },
  };
}

export async function runBuild(buildId: string, workerId = WORKER_ID): Promise<'built' | 'skipped' | 'failed'> {
  if (stopping) throw new BuildReleased(`build ${buildId}: this worker is stopping`);
  const build = await claimBuild(buildId, workerId);
  if (!build) return 'skipped';
  const controller = new AbortController();
  inProgress.set(buildId, controller);
  try {
    return await buildClaimed(build, workerId, controller.signal);
  } finally {
    inProgress.delete(buildId);
  }
}

async function buildClaimed(build: Build & { takenOver: boolean }, workerId: string, signal: AbortSignal): Promise<'built' | 'skipped' | 'failed'> {
  const buildId = build.id;
  const [host] = await db().select().from(hosts).where(eq(hosts.id, build.hostId));
  if (!host) throw new Error(`build ${buildId} has no host`);
  // Only rows from before inputs were recorded hold `{}` (TBuildInputsAtRest); requestBuild always writes them.
  const inputs = build.inputs as TBuildInputs;
  const reporter = new BuildReporter(buildId, workerId);
  const mine = owned(buildId, workerId);
  let dir: string | undefined;
  try {
    // Named for this process: a worker that starts after this one died removes it (lib/jobs/temp-dirs.ts).
    // Inside the try: a data directory that cannot take it fails the build, never leaves it running.
    dir = await makeTempDir(env().dataDir, 'build');
    if (build.takenOver) reporter.note(`--- taken over by ${workerId} after the previous worker stopped or went silent ---`);
    // Never a build outside the sandbox or as root: the worker checked at start, and this
    // holds for any process that builds (the check runs once per process).
    await requireBuildSandbox();
    const target = await writeBuildFlake(path.join(dir, 'flake'), host.name, inputs, JAILED_FLAKE);
    const network = buildNetwork(inputs.nixpkgs);
    const jail = await buildJail(dir, inputs);
    reporter.note(`$ nix build ${target}${network === 'isolated' ? ' (no network)' : ''}`);
    // A flake, evaluated pure (never --impure): no getEnv, no paths outside the flake, no builtins.storePath.
    const result = await runNix('nix', ['build', '--json', '--no-link', '--log-format', 'internal-json', target], {
      onStderrLine: (line) => reporter.line(line),
      network,
      jail: jail.jail,
      env: jail.env,
      timeoutMs: 3 * 60 * 60 * 1000,
      signal,
      // Recorded before anything else can happen, so a takeover can find the group.
      onSpawn: (group) =>
        void db()
          .update(builds)
          .set({ nixPgid: group.pid, nixStart: group.start })
          .where(mine)
          .catch((error: unknown) => console.error(`[builds] build ${buildId}: could not record the nix process group`, error)),
    });
    if (signal.aborted) throw new BuildReleased(`build ${buildId}: this worker is stopping; the build goes back to the queue`);
    if (result.code !== 0) {
      await reporter.close();
      const message = result.timedOut
        ? 'The build took longer than 3 hours and was stopped'
        : (reporter.lastError ?? `nix build failed (exit ${result.code}) without an error message; see the log`);
      await db().update(builds).set({ status: 'failed', error: message, finishedAt: new Date(), progress: { stage: 'failed', ...reporter.reader.progress }, nixPgid: null, nixStart: null }).where(mine);
      return 'failed';
    }
    const storePath = ZBuildOutput.parse(JSON.parse(result.stdout))[0]?.outputs.out as string;
    reporter.stage = 'uploading';
    reporter.note(`built ${storePath}`);
    const closure = await closureOf(storePath);
    await db()
      .insert(buildPaths)
      .values(closure.map((p) => ({ buildId, storeHash: storeHashOf(p.path), storePath: p.path, narSize: p.narSize })))
      .onConflictDoNothing();
    await recordClosurePackages(buildId, closure.map((p) => p.path));
    await pushClosure(build.orgId, storePath, closure.map((p) => p.path), { onProgress: (line) => reporter.line(line), signal });
    reporter.note(`pushed ${closure.length} paths to the cache, signed`);
    const diff = await diffAgainst(host, buildId, closure);
    reporter.stage = 'done';
    await reporter.close();
    const [done] = await db()
      .update(builds)
      .set({ status: 'succeeded', storePath, closureSize: closure.reduce((n, p) => n + p.narSize, 0), diff, finishedAt: new Date(), error: null, nixPgid: null, nixStart: null })
      .where(mine)
      .returning({ id: builds.id });
    // Taken over while it ran (this worker went silent): the new owner's outcome is the build's.
    return done ? 'built' : 'skipped';
  } catch (error) {
    if (error instanceof BuildReleased || signal.aborted) {
      reporter.note(`--- ${workerId} stopped; the build goes back to the queue ---`);
      await reporter.close().catch(() => {});
      await db().update(builds).set({ status: 'queued', workerId: null, nixPgid: null, nixStart: null }).where(and(mine, eq(builds.status, 'running')));
      throw error instanceof BuildReleased ? error : new BuildReleased(`build ${buildId}: this worker is stopping; the build goes back to the queue`);
    }
    await reporter.close().catch(() => {});
    const message = reporter.redact(error instanceof Error ? error.message : String(error));
    await db().update(builds).set({ status: 'failed', error: message.slice(0, 4000), finishedAt: new Date(), nixPgid: null, nixStart: null }).where(mine);
    return 'failed';
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}
