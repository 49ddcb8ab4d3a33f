// Activation on a simulated host (a separate store root) with real Nix: fetch from
// our cache, set the profile, switch, confirm, and roll back when anything fails.
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Activator, type ActivationContext } from '@/agent/activate';
import { StateKeeper } from '@/agent/snapshots/keeper';
import { currentSystem } from '@/agent/system';
import * as hostConfig from '@/app/api/v1/hosts/[name]/config/route';
import * as hosts from '@/app/api/v1/hosts/route';
import { enrollHost } from '@/lib/agents/credentials';
import type { TDeploy } from '@/lib/agents/protocol';
import { requestBuild } from '@/lib/builds/request-build';
import { runBuild } from '@/lib/builds/run-build';
import { ensureCacheKey } from '@/lib/cache/keys';
import { handleCacheRequest } from '@/lib/cache/serve';
import { db } from '@/lib/db/client';
import { builds } from '@/lib/db/schema';
import { findHost } from '@/lib/hosts/reach';
import { call, makeOrg, type OrgFixture } from './fixtures';

let fx: OrgFixture;
let tmp: string;
let server: http.Server;
let cacheUrl: string;
let publicKey: string;
let credential: string;
const run = Math.random().toString(36).slice(2, 8);
const host = `act${run}`;
const systems: Record<'good' | 'other' | 'failing' | 'unhealthy', string> = { good: '', other: '', failing: '', unhealthy: '' };
let version = 1;

async function buildSystem(module: string, packages: string[]) {
  const saved = await call(hostConfig.PUT, { method: 'PUT', token: fx.members.operator.token, params: { name: host }, json: { module, packages, baseVersion: version } });
  expect(saved.status, JSON.stringify(saved.json)).toBe(200);
  version = saved.json.version;
  const { buildId } = await requestBuild(fx.members.operator.caller, await findHost(fx.members.operator.caller, host));
  expect(await runBuild(buildId)).toBe('built');
  const [row] = await db().select().from(builds).where(eq(builds.id, buildId));
  return row?.storePath as string;
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-activate-'));
  process.env.FLOTILLA_DATA_DIR = tmp;
  (await import('@/lib/env')).resetEnvCache();
  fx = await makeOrg();
  const created = await call(hosts.POST, { method: 'POST', token: fx.members.operator.token, json: { name: host } });
  credential = (await enrollHost({ token: created.json.enrollToken })).credential;
  publicKey = (await ensureCacheKey(fx.org.id)).publicKey;
  const base = `{ ... }: { networking.hostName = "${host}"; }`;
  systems.good = await buildSystem(base, ['hello']);
  systems.other = await buildSystem(base, ['hello', 'jq']);
  systems.failing = await buildSystem(`{ ... }: { networking.hostName = "${host}"; flotilla.test.failActivation = true; }`, ['hello']);
  // A health check the system itself ships (flotilla.healthChecks), the other place checks may come from.
  systems.unhealthy = await buildSystem(`{ ... }: { networking.hostName = "${host}"; flotilla.healthChecks.ok = "exit 0"; flotilla.healthChecks.web-answers = ''echo "nothing answers on :80"; exit 4''; }`, ['hello']);
  server = http.createServer((req, res) => void handleCacheRequest(req, res, (req.url ?? '/').split('?')[0] as string));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cacheUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/cache`;
}, 120_000);

afterAll(async () => {
  server?.close();
  await rm(tmp, { recursive: true, force: true });
});

async function simulatedHost(name: string, confirm = true) {
  const dir = path.join(tmp, name);
  const activations = path.join(dir, 'activations.log');
  const paths = { storeRoot: path.join(dir, 'root'), profile: '/nix/var/nix/profiles/system' };
  const ctx: ActivationContext = {
    stateDir: path.join(dir, 'state'),
    paths,
    state: new StateKeeper(path.join(dir, 'state'), paths, () => {}),
    reportState: () => {},
    cacheUrl,
    trustedKeys: () => [publicKey],
    credential,
    log: () => {},
    progress: () => {},
    reportChecks: () => {},
    waitForDecision: () => new Promise(() => {}),
    waitForConfirm: async () => confirm,
    env: { FLOTILLA_ACTIVATION_LOG: activations },
  };
  const { mkdir } = await import('node:fs/promises');
  await mkdir(ctx.stateDir, { recursive: true });
  await mkdir(path.join(dir, 'root', 'nix', 'var', 'nix', 'profiles'), { recursive: true });
  await writeFile(activations, '');
  return { ctx, activator: new Activator(ctx), activations: async () => (await readFile(activations, 'utf8')).trim().split('\n').filter(Boolean) };
}

const deploy = (storePath: string, extra: Partial<TDeploy> = {}): TDeploy => ({
  type: 'deploy',
  id: crypto.randomUUID(),
  deploymentId: crypto.randomUUID(),
  targetId: crypto.randomUUID(),
  storePath,
  action: 'switch',
  confirmTimeoutSeconds: 5,
  switchTimeoutSeconds: 60,
  ...extra,
});

describe('activation', () => {
  it('fetches the signed closure, sets the profile, switches, and never activates a replayed deploy twice', async () => {
    const h = await simulatedHost('one');
    const d = deploy(systems.good);
    const result = await h.activator.activate(d);
    expect(result, result.reason ?? '').toMatchObject({ outcome: 'succeeded', currentSystem: systems.good, targetId: d.targetId });
    expect(await currentSystem(h.ctx.paths)).toBe(systems.good);
    expect(await h.activations()).toEqual([`switch ${systems.good}`]);
    const again = await h.activator.activate({ ...d, id: crypto.randomUUID() });
    expect(again.outcome).toBe('succeeded');
    expect(await h.activations()).toHaveLength(1);
  });

  it('rolls back to the previous generation when the switch fails', async () => {
    const h = await simulatedHost('two');
    expect((await h.activator.activate(deploy(systems.good))).outcome).toBe('succeeded');
    const result = await h.activator.activate(deploy(systems.failing));
    expect(result.outcome).toBe('rolled-back');
    expect(result.reason).toMatch(/switch-to-configuration switch failed[\s\S]*failActivation/);
    expect(await currentSystem(h.ctx.paths)).toBe(systems.good);
    expect(await h.activations()).toEqual([`switch ${systems.good}`, `switch ${systems.failing}`, `switch ${systems.good}`]);
  });

  it('rolls back when the server does not confirm in time (magic rollback), and when a health check fails', async () => {
    const h = await simulatedHost('three', false);
    h.ctx.waitForConfirm = async () => true;
    expect((await h.activator.activate(deploy(systems.good))).outcome).toBe('succeeded');
    h.ctx.waitForConfirm = async () => false;
    const silent = await h.activator.activate(deploy(systems.other));
    expect(silent.outcome).toBe('rolled-back');
    expect(silent.reason).toMatch(/did not confirm within 5 s/);
    expect(await currentSystem(h.ctx.paths)).toBe(systems.good);

    h.ctx.waitForConfirm = async () => true;
    // A health check from the host's own agent config (the server cannot send one).
    h.ctx.localHealthChecks = [{ name: 'nginx answers', command: ['sh', '-c', 'exit 3'], timeoutSeconds: 5 }];
    const unhealthy = await h.activator.activate(deploy(systems.other));
    expect(unhealthy.outcome).toBe('rolled-back');
    expect(unhealthy.reason).toMatch(/health check "nginx answers" failed \(exit 3\)/);
    expect(await currentSystem(h.ctx.paths)).toBe(systems.good);
  });

  it('runs the health checks the new system ships, and rolls back when one fails', async () => {
    const h = await simulatedHost('shipped');
    expect((await h.activator.activate(deploy(systems.good))).outcome).toBe('succeeded');
    const result = await h.activator.activate(deploy(systems.unhealthy));
    expect(result.outcome).toBe('rolled-back');
    expect(result.reason).toMatch(/health check "web-answers" failed \(exit 4\)[\s\S]*nothing answers on :80/);
    expect(await currentSystem(h.ctx.paths)).toBe(systems.good);
    expect(await h.activations()).toEqual([`switch ${systems.good}`, `switch ${systems.unhealthy}`, `switch ${systems.good}`]);
  });

  it('refuses a closure signed by another key and leaves the profile alone', async () => {
    const h = await simulatedHost('four');
    expect((await h.activator.activate(deploy(systems.good))).outcome).toBe('succeeded');
    h.ctx.trustedKeys = () => [`someone-else-1:${Buffer.alloc(32, 9).toString('base64')}`];
    const result = await h.activator.activate(deploy(systems.other));
    expect(result.outcome).toBe('failed');
    expect(result.reason).toMatch(/lacks a valid signature/);
    expect(await currentSystem(h.ctx.paths)).toBe(systems.good);
  });

  it('says honestly that a failed first deployment has nothing to roll back to', async () => {
    const h = await simulatedHost('five');
    const result = await h.activator.activate(deploy(systems.failing));
    expect(result.outcome).toBe('failed');
    expect(result.reason).toMatch(/first deployment on this host/);
  });

  it('finishes an activation interrupted after the switch by rolling back, and reports it once', async () => {
    const h = await simulatedHost('six');
    expect((await h.activator.activate(deploy(systems.good))).outcome).toBe('succeeded');
    await h.activator.markReported((await h.activator.journal.all())[0]?.targetId as string);
    // What a crash right after switching to `other` leaves behind: profile changed, journal at "switched".
    const interrupted = deploy(systems.other);
    const { runNix } = await import('@/lib/nix/run');
    await runNix('nix', ['copy', '--from', cacheUrl, '--to', h.ctx.paths.storeRoot as string, '--option', 'trusted-public-keys', publicKey, '--option', 'netrc-file', path.join(h.ctx.stateDir, 'netrc'), systems.other]);
    await runNix('nix-env', ['--store', h.ctx.paths.storeRoot as string, '-p', path.join(h.ctx.paths.storeRoot as string, h.ctx.paths.profile), '--set', systems.other]);
    await h.activator.journal.put({
      targetId: interrupted.targetId,
      deploymentId: interrupted.deploymentId,
      storePath: systems.other,
      action: 'switch',
      previous: systems.good,
      step: 'switched',
      outcome: null,
      reason: null,
      logsTail: '',
      currentSystem: systems.good,
      reported: false,
    });
    const pending = await h.activator.pendingResults();
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatchObject({ targetId: interrupted.targetId, outcome: 'rolled-back', reason: expect.stringMatching(/stopped during the activation/) });
    expect(await currentSystem(h.ctx.paths)).toBe(systems.good);
    // A replay of that deploy after the restart is not activated again.
    expect((await h.activator.activate(interrupted)).outcome).toBe('rolled-back');
    expect((await h.activations()).filter((l) => l.includes(systems.other))).toHaveLength(0);
  });
});
