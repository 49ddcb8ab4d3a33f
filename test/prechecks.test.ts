// Pre-switch checks with a real agent on a simulated host: a check shipped in the closure
// finds an error with two resolutions; the target waits in needs-decision; the agent is
// killed while it waits and the decision is made while it is down; the restarted agent
// gets the decision, runs the chosen resolution and switches, once.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as decisionsRoute from '@/app/api/v1/decisions/route';
import * as decideRoute from '@/app/api/v1/deployments/[id]/targets/[targetId]/decide/route';
import * as deployments from '@/app/api/v1/deployments/route';
import * as hosts from '@/app/api/v1/hosts/route';
import { db } from '@/lib/db/client';
import { deploymentTargets, hosts as hostsTable, notifications } from '@/lib/db/schema';
import { runAgent, startHarness, until, type AgentProcess, type Harness } from './agent-harness';
import { call, makeOrg, type OrgFixture } from './fixtures';
import { finishedDeployment, saveAndBuild } from './systems';

let fx: OrgFixture;
let harness: Harness;
let tmp: string;
let agent: AgentProcess;
let stateDir: string;
let activations: string;
let checkDir: string;
const run = Math.random().toString(36).slice(2, 8);
const host = `chk${run}`;
let version = 1;

// The check finds an unapplied schema migration until one of its resolutions ran.
const CHECK = `
if [ "$1" = resolve ]; then echo "$2" > "$FLOTILLA_CHECK_DIR/resolved"; exit 0; fi
if [ -e "$FLOTILLA_CHECK_DIR/resolved" ]; then exit 0; fi
echo '{"id": "schema", "level": "error", "message": "The database schema is at version 3; this system needs 4", "resolutions": [{"id": "run-migration", "label": "Run the migration now"}, {"id": "skip", "label": "Switch without migrating"}]}'
echo '{"level": "warning", "message": "The migration takes a table lock"}'
`;

const startAgent = () =>
  runAgent(['run', '--state-dir', stateDir, '--store-root', path.join(tmp, 'root')], { FLOTILLA_ACTIVATION_LOG: activations, FLOTILLA_CHECK_DIR: checkDir });
const target = async (id: string) => (await db().select().from(deploymentTargets).where(eq(deploymentTargets.deploymentId, id)))[0];

async function buildSystem(module: string) {
  const built = await saveAndBuild(fx.members.operator, host, module, version);
  version = built.version;
  return built.system;
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-checks-'));
  process.env.FLOTILLA_DATA_DIR = tmp;
  checkDir = path.join(tmp, 'check');
  await mkdir(checkDir);
  fx = await makeOrg();
  harness = await startHarness();
  const created = await call(hosts.POST, { method: 'POST', token: fx.members.operator.token, json: { name: host } });
  stateDir = path.join(tmp, 'state');
  const enrol = runAgent(['enroll', '--server', harness.base, '--token', created.json.enrollToken, '--state-dir', stateDir]);
  expect(await enrol.exited, enrol.output()).toBe(0);
  activations = path.join(tmp, 'activations.log');
  await writeFile(activations, '');
  agent = startAgent();
  await until('the agent to connect', async () => (await db().select().from(hostsTable).where(and(eq(hostsTable.orgId, fx.org.id), eq(hostsTable.name, host))))[0]?.online);
}, 120_000);

afterAll(async () => {
  agent?.child.kill('SIGKILL');
  await harness?.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('pre-switch checks', () => {
  it('a blocking check waits for a decision that survives the agent being killed, then runs the chosen resolution and switches once', async () => {
    const system = await buildSystem(`{ ... }: { networking.hostName = "${host}"; flotilla.test.restartUnits = [ "postgresql.service" ]; flotilla.checks.migrate = ''${CHECK}''; }`);
    const created = await call(deployments.POST, { method: 'POST', token: fx.members.operator.token, json: { agents: { [host]: system }, rollout: { canaries: 0 } } });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const id = created.json.id as string;
    const blocked = await until('the target to wait for a decision', async () => {
      const t = await target(id);
      return t?.phase === 'needs-decision' ? t : undefined;
    }, 60_000).catch((e: Error) => {
      throw new Error(`${e.message}\nagent:\n${agent.output()}`);
    });
    const items = blocked.checks as { id: string; level: string; message: string; resolutions: { id: string }[] }[];
    expect(items.map((i) => [i.id, i.level])).toEqual([
      ['flotilla:dry-activate', 'info'],
      ['migrate:schema', 'error'],
      ['migrate:1', 'warning'],
    ]);
    expect(items[0]?.message).toMatch(/would restart the following units: postgresql.service/);
    expect(items[1]?.resolutions.map((r) => r.id)).toEqual(['run-migration', 'skip', 'abort']);
    const inbox = await call(decisionsRoute.GET, { token: fx.members.operator.token });
    expect(inbox.json.decisions).toEqual([expect.objectContaining({ deploymentId: id, host, targetId: blocked.id, decision: null })]);
    // The people who may decide are told once, though the agent repeats its report while it waits.
    const told = () => db().select().from(notifications).where(eq(notifications.eventKey, `${id}:${host}:decision`));
    await until('the deciders to be notified', async () => (await told()).length >= 2 || undefined);
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await told()).map((n) => n.userId).sort()).toEqual([fx.members.admin.id, fx.members.operator.id].sort());

    // Killed while waiting: nothing was switched, and nothing is reported as failed.
    agent.child.kill('SIGKILL');
    await agent.exited;
    const decide = (choices: Record<string, string>, token = fx.members.operator.token) =>
      call(decideRoute.POST, { method: 'POST', token, params: { id, targetId: blocked.id }, json: { choices } });
    expect((await decide({ 'migrate:schema': 'drop-tables' })).status).toBe(422);
    expect((await decide({})).status).toBe(422);
    expect((await decide({ 'migrate:schema': 'run-migration' }, fx.members.viewer.token)).status).toBe(403);
    expect((await decide({ 'migrate:schema': 'run-migration' })).status).toBe(200);
    expect((await decide({ 'migrate:schema': 'skip' })).status).toBe(409);

    agent = startAgent();
    const done = await finishedDeployment(fx.members.operator, id, () => agent.output(), 60_000);
    expect(done.status, agent.output()).toBe('succeeded');
    expect((await readFile(path.join(checkDir, 'resolved'), 'utf8')).trim()).toBe('run-migration');
    const lines = (await readFile(activations, 'utf8')).trim().split('\n');
    expect(lines.filter((l) => l === `switch ${system}`)).toHaveLength(1);
    expect(agent.output()).toMatch(/resuming target/);
    expect((await target(id))?.decision).toEqual({ 'migrate:schema': 'run-migration' });
  }, 150_000);

  it('"abort" keeps the current system and fails the target with the check’s message', async () => {
    await rm(path.join(checkDir, 'resolved'), { force: true });
    const before = (await db().select().from(hostsTable).where(eq(hostsTable.name, host)))[0]?.currentSystem;
    const system = await buildSystem(`{ ... }: { networking.hostName = "${host}"; environment.systemPackages = [ ]; flotilla.checks.migrate = ''${CHECK}''; flotilla.test.restartUnits = [ "nginx.service" ]; }`);
    const created = await call(deployments.POST, { method: 'POST', token: fx.members.operator.token, json: { agents: { [host]: system }, rollout: { canaries: 0 } } });
    const id = created.json.id as string;
    const blocked = await until('the target to wait', async () => ((await target(id))?.phase === 'needs-decision' ? target(id) : undefined), 60_000);
    expect((await call(decideRoute.POST, { method: 'POST', token: fx.members.operator.token, params: { id, targetId: blocked?.id as string }, json: { choices: { 'migrate:schema': 'abort' } } })).status).toBe(200);
    const done = await finishedDeployment(fx.members.operator, id, () => agent.output(), 60_000);
    expect(done.status).toBe('failed');
    expect(done.targets[0]).toMatchObject({ phase: 'failed', error: expect.stringMatching(/stopped at the pre-switch check: The database schema is at version 3/) });
    expect((await db().select().from(hostsTable).where(eq(hostsTable.name, host)))[0]?.currentSystem).toBe(before);
  }, 120_000);
});
