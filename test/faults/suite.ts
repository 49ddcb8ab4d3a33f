// The fault suite: one cluster, a baseline rollout (so every host has a system to roll
// back to), then the scenarios of `mode` in order. `ci` is the short subset the normal
// test run includes (test/faults/faults-ci.test.ts); `full` is `npm run faults`.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { closeDb } from '@/lib/db/client';
import { startEmbeddedPostgres } from '@/lib/db/embedded';
import { runMigrations } from '@/lib/db/migrate';
import { resetEnvCache } from '@/lib/env';
import { Cluster } from './cluster';
import * as s from './scenarios';

const PHASES = ['sent', 'downloading', 'activating', 'confirming'] as const;

export async function runSuite(mode: s.Mode, report: (rows: s.Row[]) => void = () => {}): Promise<s.Row[]> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-faults-'));
  const full = mode === 'full';
  const cluster = new Cluster({ tmp, hosts: full ? 10 : 3, agentEnv: { FLOTILLA_AGENT_SILENCE_MS: full ? '45000' : '10000' }, finishCapMs: full ? undefined : 60_000 });
  const rows: s.Row[] = [];
  let failedRun = false;
  // FAULTS_ONLY=<regex> runs only the full run's steps whose name matches (e.g. "2 outbox|5 ").
  const only = process.env.FAULTS_ONLY ? new RegExp(process.env.FAULTS_ONLY) : null;
  const step = async (name: string, scenario: () => Promise<s.Row>) => {
    if (!only || only.test(name)) add(await scenario());
  };
  const add = (row: s.Row) => {
    rows.push(row);
    cluster.log(`${row.scenario}: ${s.failed(row) ? 'FAIL' : row.pending ? 'pending' : 'ok'} ${row.note}`);
    report(rows);
  };
  try {
    await cluster.start();
    // A switch of 4 s: long enough for `activating` to be hit, short enough for CI.
    const slow = 'flotilla.test.activationDelaySeconds = 4;';
    const labels: Record<string, string> = { base: '', s1: slow, s3: slow, s5: slow, s6: '' };
    if (full) {
      for (const p of PHASES) Object.assign(labels, { [`s1${p}`]: slow, [`s3${p}`]: slow });
      Object.assign(labels, { s2waves: '', s2outbox: '', s2released: '', s4: slow });
    }
    const systems = await s.buildSystems(cluster, labels);
    cluster.startWorker();
    const baseline = await cluster.deploy({ agents: Object.fromEntries(cluster.names.map((n) => [n, systems.base])), rollout: { canaries: 0, maxInFlight: '100%', watchSeconds: 0 } });
    const done = await cluster.finished(baseline, 120_000);
    if (done?.status !== 'succeeded') throw new Error(`the baseline rollout did not succeed: ${done?.status}\n${cluster.workerOutput()}`);
    const [first, second] = cluster.names as [string, string];

    if (!full) {
      add(await s.serverKill(cluster, systems.s1 as string, 'activating'));
      add(await s.agentKill(cluster, systems.s3 as string, 'activating', [first]));
      // As in production (a 2 min cut against 45 s of silence), the cut outlasts the agent's silence timeout.
      add(await s.linkCut(cluster, systems.s5 as string, [second], 20_000, 5));
      add(await s.lossyLinks(cluster, systems.s6 as string, 300, 0.05));
      return rows;
    }
    for (const p of PHASES) await step(`1 server ${p}`, () => s.serverKill(cluster, systems[`s1${p}`] as string, p));
    await step('2 waves', () => s.workerKillWaves(cluster, systems.s2waves as string));
    await step('2 outbox finished', () => s.workerCrashAfterCommit(cluster, systems.s2outbox as string, cluster.names.slice(0, 3)));
    await step('2 outbox released', () => s.workerCrashAfterCommit(cluster, systems.s2released as string, cluster.names.slice(3, 6), 'target.released'));
    for (const p of PHASES) await step(`3 agent ${p}`, () => s.agentKill(cluster, systems[`s3${p}`] as string, p, cluster.names.slice(0, 2)));
    await step('4 proxy', () => s.databaseRestart(cluster, systems.s4 as string, 5_000));
    await step('5 cut', () => s.linkCut(cluster, systems.s5 as string, cluster.names.slice(0, 2), 120_000, 30));
    await step('6 lossy', () => s.lossyLinks(cluster, systems.s6 as string, 300, 0.05));
    await step('7 build', () => s.buildJobLost(cluster));
    // Last on this cluster: it changes hosts' configs to a slow build.
    await step('2 building', () => s.workerKillBuilding(cluster, cluster.names.slice(0, 2)));
  } catch (error) {
    failedRun = true;
    throw error;
  } finally {
    if (failedRun || rows.some(s.failed)) {
      const dir = path.join(os.tmpdir(), `flotilla-faults-logs-${cluster.run}`);
      await cluster.dumpLogs(dir).catch(() => {});
      cluster.log(`logs of every process: ${dir}`);
    }
    await cluster.close();
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
  }
  if (full && (!only || only.test('4 embedded'))) add(await embeddedPostgres());
  return rows;
}

/** Scenario 4 on the embedded PostgreSQL: a small cluster of its own, whose database this process stops and starts. */
async function embeddedPostgres(): Promise<s.Row> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'flotilla-faults-pg-'));
  // PostgreSQL runs as the postgres user when we are root: it must be able to reach its directory.
  await chmod(dir, 0o711);
  let pg = await startEmbeddedPostgres(path.join(dir, 'data')).catch(async (error: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw error;
  });
  const outer = process.env.DATABASE_URL;
  const useDatabase = async (url: string) => {
    await closeDb();
    process.env.DATABASE_URL = url;
    resetEnvCache();
  };
  const cluster = new Cluster({ tmp: dir, hosts: 3 });
  try {
    await runMigrations(pg.url);
    await useDatabase(pg.url);
    await cluster.start();
    const systems = await s.buildSystems(cluster, { base: '', s4e: 'flotilla.test.activationDelaySeconds = 4;' });
    cluster.startWorker();
    const baseline = await cluster.deploy({ agents: Object.fromEntries(cluster.names.map((n) => [n, systems.base])), rollout: { canaries: 0, maxInFlight: '100%', watchSeconds: 0 } });
    if ((await cluster.finished(baseline, 120_000))?.status !== 'succeeded') throw new Error(`the baseline rollout on the embedded PostgreSQL did not succeed\n${cluster.workerOutput()}`);
    return await s.embeddedRestart(cluster, systems.s4e as string, async () => {
      await pg.stop();
      await new Promise((r) => setTimeout(r, 3_000));
      pg = await startEmbeddedPostgres(path.join(dir, 'data'));
      cluster.dbProxy.setTargets([{ host: '127.0.0.1', port: Number(new URL(pg.url).port) }]);
      await useDatabase(pg.url);
    });
  } finally {
    await cluster.close();
    await pg.stop().catch(() => {});
    await useDatabase(outer as string);
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}
