// The `build-host-system` job: claim the build (only one worker can), write the
// flake, run `nix build`, stream progress and log into the build row, push the
// closure to the signed cache, record its paths and the closure diff.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { homedir, hostname } from 'node:os';
import path from 'node:path';
import { and, desc, eq, isNotNull, lt, or, sql } from 'drizzle-orm';
import { z } from 'zod';
import { db } from '@/lib/db/client';
import { buildPaths, builds, hosts, type Host } from '@/lib/db/schema';
import { env } from '@/lib/env';
import { buildNetwork } from '@/lib/nix/build-network';
import { NixProgressReader } from '@/lib/nix/progress';
import { runNix } from '@/lib/nix/run';
import { requireBuildSandbox } from '@/lib/nix/sandbox-check';
import { knownSecrets, redactSecrets } from '@/lib/nix/secrets';
import { pushClosure, storeHashOf } from '@/lib/cache/storage';
import { closureOf, diffClosures, recordClosurePackages, type PathInfo } from './closure';
import { localFlakeDir, writeBuildFlake } from './flake';
import type { BuildInputs } from './inputs';

export const WORKER_ID = `${hostname()}:${process.pid}`;
/** A running build whose worker has not reported for this long is taken over. */
export const STALE_AFTER_MS = 90_000;
const HEARTBEAT_MS = 1_000;
const MAX_LOG_CHARS = 2_000_000;

const ZBuildOutput = z.array(z.object({ outputs: z.object({ out: z.string() }) })).min(1);

/** Claims a queued build, or a running one whose worker went silent. Returns null if someone else has it. */
export async function claimBuild(buildId: string, workerId = WORKER_ID) {
  const stale = new Date(Date.now() - STALE_AFTER_MS);
  const [row] = await db()
    .update(builds)
    .set({ status: 'running', workerId, heartbeatAt: new Date(), startedAt: sql`coalesce(${builds.startedAt}, now())` })
    .where(and(eq(builds.id, buildId), or(eq(builds.status, 'queued'), and(eq(builds.status, 'running'), lt(builds.heartbeatAt, stale)))))
    .returning();
  return row ?? null;
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

  constructor(private buildId: string) {
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
        .where(eq(builds.id, this.buildId));
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
async function buildJail(dir: string, inputs: BuildInputs) {
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
  const build = await claimBuild(buildId, workerId);
  if (!build) return 'skipped';
  const [host] = await db().select().from(hosts).where(eq(hosts.id, build.hostId));
  if (!host) throw new Error(`build ${buildId} has no host`);
  const inputs = build.inputs as BuildInputs;
  const reporter = new BuildReporter(buildId);
  const dir = await mkdtemp(path.join(env().dataDir, 'builds-tmp-'));
  try {
    if (build.log) reporter.note(`--- taken over by ${workerId} after the previous worker went silent ---`);
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
    });
    if (result.code !== 0) {
      await reporter.close();
      const message = result.timedOut
        ? 'The build took longer than 3 hours and was stopped'
        : (reporter.lastError ?? `nix build failed (exit ${result.code}) without an error message; see the log`);
      await db().update(builds).set({ status: 'failed', error: message, finishedAt: new Date(), progress: { stage: 'failed', ...reporter.reader.progress } }).where(eq(builds.id, buildId));
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
    await pushClosure(build.orgId, storePath, closure.map((p) => p.path), { onProgress: (line) => reporter.line(line) });
    reporter.note(`pushed ${closure.length} paths to the cache, signed`);
    const diff = await diffAgainst(host, buildId, closure);
    reporter.stage = 'done';
    await reporter.close();
    await db()
      .update(builds)
      .set({ status: 'succeeded', storePath, closureSize: closure.reduce((n, p) => n + p.narSize, 0), diff, finishedAt: new Date(), error: null })
      .where(eq(builds.id, buildId));
    return 'built';
  } catch (error) {
    await reporter.close().catch(() => {});
    const message = reporter.redact(error instanceof Error ? error.message : String(error));
    await db().update(builds).set({ status: 'failed', error: message.slice(0, 4000), finishedAt: new Date() }).where(eq(builds.id, buildId));
    return 'failed';
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The watchdog: running builds whose worker went silent go back to the queue. */
export async function requeueStaleBuilds(send: (buildId: string) => Promise<unknown>) {
  const stale = await db()
    .update(builds)
    .set({ status: 'queued', workerId: null })
    .where(and(eq(builds.status, 'running'), lt(builds.heartbeatAt, new Date(Date.now() - STALE_AFTER_MS))))
    .returning({ id: builds.id });
  for (const { id } of stale) await send(id);
  return stale.length;
}
