// Workers that clean up after themselves and after each other, with real worker.ts
// processes and real Nix building a slow derivation: a worker killed with SIGKILL has
// its orphaned `nix build` killed by the worker that takes the build over; a worker
// stopped with SIGTERM kills its builds' process groups itself; a starting worker
// removes the temporary directories of processes that are gone, and nothing else.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as hostConfig from '@/app/api/v1/hosts/[name]/config/route';
import * as hostsRoute from '@/app/api/v1/hosts/route';
import { enqueueBuild } from '@/lib/builds/build-job';
import { requestBuild } from '@/lib/builds/request-build';
import { db } from '@/lib/db/client';
import { builds } from '@/lib/db/schema';
import { findHost } from '@/lib/hosts/reach';
import { groupMembers, startTicks } from '@/lib/jobs/processes';
import { until } from './agent-harness';
import { call, makeOrg, type OrgFixture } from './fixtures';

const root = path.resolve(import.meta.dirname, '..');
const run = Math.random().toString(36).slice(2, 7);
let fx: OrgFixture;
let tmp: string;
const workers: ChildProcess[] = [];

type Worker = { child: ChildProcess; output: () => string; exited: Promise<number | null> };

/** worker.ts in a process of its own, its data directory and TMPDIR in this test's directory; resolves once it runs. */
async function startWorker(): Promise<Worker> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'worker.ts'], {
    cwd: root,
    env: { ...process.env, FLOTILLA_DATA_DIR: tmp, TMPDIR: path.join(tmp, 'os-tmp'), FLOTILLA_BUILD_SWEEP_SECONDS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  workers.push(child);
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await until('the worker to run', async () => {
    if (child.exitCode !== null) throw new Error(`the worker exited: ${out}`);
    return /worker running/.test(out);
  }, 60_000);
  return { child, output: () => out, exited };
}

/** Live processes whose command line carries `marker` (the slow derivation's builder). */
function processesWith(marker: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return startTicks(Number(d)) !== null && readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(marker);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** A host whose system needs a derivation that sleeps `seconds` (its builder's command line carries `marker`). */
async function slowHost(name: string, marker: string, seconds: number) {
  const created = await call(hostsRoute.POST, { method: 'POST', token: fx.members.operator.token, json: { name } });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  const module = `{ ... }: {
  networking.hostName = "${name}";
  environment.systemPackages = [ (builtins.derivation { name = "slow-${marker}"; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "sleep ${seconds}; echo ${marker}; mkdir -p $out" ]; }) ];
}`;
  const saved = await call(hostConfig.PUT, { method: 'PUT', token: fx.members.operator.token, params: { name }, json: { module, baseVersion: 1 } });
  expect(saved.status, JSON.stringify(saved.json)).toBe(200);
  const { buildId } = await requestBuild(fx.members.operator.caller, await findHost(fx.members.operator.caller, name));
  await enqueueBuild(buildId, buildId);
  return buildId;
}

const buildRow = async (id: string) => (await db().select().from(builds).where(eq(builds.id, id)))[0];

/** Waits until the build's nix runs under a worker and its builder is sleeping; returns the nix process group. */
async function buildingNow(buildId: string, marker: string) {
  return until(
    'the build to be running its slow derivation',
    async () => {
      const row = await buildRow(buildId);
      return row?.status === 'running' && row.nixPgid !== null && processesWith(marker).length > 0 ? row.nixPgid : null;
    },
    90_000,
  );
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-cleanup-test-'));
  await mkdir(path.join(tmp, 'os-tmp'));
  fx = await makeOrg();
});

afterAll(async () => {
  for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
  await rm(tmp, { recursive: true, force: true });
});

describe('workers clean up', () => {
  it('a worker killed with SIGKILL: the next worker kills its orphaned nix, takes the build over, and it succeeds once', async () => {
    const marker = `orphan-${run}`;
    const buildId = await slowHost(`k${run}`, marker, 25);
    const first = await startWorker();
    const orphanGroup = await buildingNow(buildId, marker);
    const before = await buildRow(buildId);
    expect(before?.workerPid).toBe(first.child.pid);

    first.child.kill('SIGKILL');
    await first.exited;
    // Nothing killed the build with its worker: its group runs on, orphaned.
    expect(groupMembers(orphanGroup).length).toBeGreaterThan(0);
    expect(processesWith(marker).length).toBeGreaterThan(0);

    const started = Date.now();
    const second = await startWorker();
    // Gone long before the orphan's 25 s sleep could have ended by itself.
    await until('the orphaned nix process group to be gone', async () => groupMembers(orphanGroup).length === 0 && processesWith(marker).length === 0, 15_000);
    expect(Date.now() - started).toBeLessThan(20_000);

    const done = await until('the build to finish', async () => {
      const row = await buildRow(buildId);
      return row && row.status !== 'running' && row.status !== 'queued' ? row : null;
    }, 120_000);
    expect(done.status, `${done.error}\n${second.output()}`).toBe('succeeded');
    expect(done.workerPid).toBe(second.child.pid);
    expect(done.log).toMatch(/taken over by/);
    expect(done.log.match(/^built \/nix\/store\//gm)?.length).toBe(1);
    second.child.kill('SIGTERM');
    await second.exited;
  }, 240_000);

  it('a worker stopped with SIGTERM kills its nix process group and puts the build back in the queue', async () => {
    const marker = `stopped-${run}`;
    const buildId = await slowHost(`t${run}`, marker, 60);
    const worker = await startWorker();
    const group = await buildingNow(buildId, marker);

    worker.child.kill('SIGTERM');
    const code = await worker.exited;
    expect(code, worker.output()).toBe(0);
    // At once, not when pg-boss's graceful stop gave up waiting for the handler.
    expect(groupMembers(group)).toEqual([]);
    expect(processesWith(marker)).toEqual([]);
    const row = await buildRow(buildId);
    expect(row).toMatchObject({ status: 'queued', workerId: null, nixPgid: null });
    expect(row?.log).toMatch(/stopped; the build goes back to the queue/);
    // No other worker should build it after this test.
    await db().update(builds).set({ status: 'failed', error: 'test over' }).where(eq(builds.id, buildId));
  }, 180_000);

  it('a starting worker removes the temporary directories of processes that are gone, and nothing else', async () => {
    // A process that has exited: its pid and start time name nothing alive.
    const gone = spawn('true');
    const gonePid = gone.pid as number;
    const goneStart = startTicks(gonePid) ?? 1;
    await new Promise((resolve) => gone.on('exit', resolve));
    const mine = `${process.pid}.${startTicks(process.pid)}`;
    const dirs = {
      deadBuild: path.join(tmp, `flotilla-build.${gonePid}.${goneStart}.AbC123`),
      deadKey: path.join(tmp, 'os-tmp', `flotilla-sandbox-probe.${gonePid}.${goneStart}.xYz789`),
      // This test process is alive: its directories stay.
      liveBuild: path.join(tmp, `flotilla-build.${mine}.Live01`),
      // Not ours, or not named for an owner: left alone.
      legacy: path.join(tmp, 'builds-tmp-Old123'),
      xdg: path.join(tmp, 'os-tmp', 'flotilla-xdg-Abc123'),
      other: path.join(tmp, 'os-tmp', `something.${gonePid}.${goneStart}.AbC123`),
    };
    for (const dir of Object.values(dirs)) await mkdir(path.join(dir, 'inside'), { recursive: true });

    const worker = await startWorker();
    expect(existsSync(dirs.deadBuild), worker.output()).toBe(false);
    expect(existsSync(dirs.deadKey)).toBe(false);
    for (const kept of [dirs.liveBuild, dirs.legacy, dirs.xdg, dirs.other]) expect(existsSync(kept), kept).toBe(true);
    worker.child.kill('SIGTERM');
    await worker.exited;
  }, 120_000);
});
