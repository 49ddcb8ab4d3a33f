// One simulated host for agent tests: created through the API, its agent enrolled into a
// state directory of its own and run on a store root of its own with an activation log,
// and the questions such tests keep asking (what did its target do, how often was a
// system switched to, what does its journal say).
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { and, eq } from 'drizzle-orm';
import { expect } from 'vitest';
import * as deployments from '@/app/api/v1/deployments/route';
import * as hostsRoute from '@/app/api/v1/hosts/route';
import { db } from '@/lib/db/client';
import type { TRolloutInput } from '@/lib/db/json-types';
import { deploymentTargets, hosts } from '@/lib/db/schema';
import { isFinalPhase } from '@/lib/db/statuses';
import { runAgent, until, type AgentProcess } from './agent-harness';
import { call, type Member } from './fixtures';
import { saveAndBuild } from './systems';

export type JournalEntry = { targetId: string; step: string; outcome: string | null; storePath: string };

export class SimulatedHost {
  /** The agent process running now (start() replaces it). */
  agent!: AgentProcess;
  id = '';
  readonly stateDir: string;
  readonly activations: string;
  private version = 1;

  private constructor(
    readonly name: string,
    private operator: Member,
    private dir: string,
  ) {
    this.stateDir = path.join(dir, 'state');
    this.activations = path.join(dir, 'activations.log');
  }

  /** Creates the host, enrols its agent against `server` and starts it; resolves once it is online. */
  static async create(opts: { name: string; operator: Member; dir: string; server: string }): Promise<SimulatedHost> {
    const sim = new SimulatedHost(opts.name, opts.operator, opts.dir);
    const created = await call(hostsRoute.POST, { method: 'POST', token: opts.operator.token, json: { name: opts.name } });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const enrol = runAgent(['enroll', '--server', opts.server, '--token', created.json.enrollToken, '--state-dir', sim.stateDir]);
    expect(await enrol.exited, enrol.output()).toBe(0);
    await writeFile(sim.activations, '');
    sim.start();
    const online = await until('the agent to connect', async () => {
      const [h] = await db().select({ id: hosts.id, online: hosts.online }).from(hosts).where(and(eq(hosts.orgId, opts.operator.caller.org.id), eq(hosts.name, opts.name)));
      return h?.online ? h : undefined;
    });
    sim.id = online.id;
    return sim;
  }

  start(env: Record<string, string> = {}): AgentProcess {
    this.agent = runAgent(['run', '--state-dir', this.stateDir, '--store-root', path.join(this.dir, 'root')], { FLOTILLA_ACTIVATION_LOG: this.activations, ...env });
    return this.agent;
  }

  /** Stops the agent (SIGTERM: it says goodbye) and waits until the server sees the host offline. */
  async stop() {
    this.agent.child.kill('SIGTERM');
    await this.agent.exited;
    await until('the host to be offline', async () => !(await this.row())?.online);
  }

  async row() {
    return (await db().select().from(hosts).where(eq(hosts.id, this.id)))[0];
  }

  /** Saves a module with `extra` on top of the host's config and builds it with real Nix: the system's store path. */
  async build(extra: string): Promise<string> {
    const built = await saveAndBuild(this.operator, this.name, `{ ... }: { networking.hostName = "${this.name}"; ${extra} }`, this.version);
    this.version = built.version;
    return built.system;
  }

  /** A one-host deployment of `system` (deploy.json); returns its id. */
  async deploy(system: string, rollout: TRolloutInput = {}): Promise<string> {
    const created = await call(deployments.POST, { method: 'POST', token: this.operator.token, json: { agents: { [this.name]: system }, rollout: { canaries: 0, ...rollout } } });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    return created.json.id as string;
  }

  async target(deploymentId: string) {
    return (await db().select().from(deploymentTargets).where(eq(deploymentTargets.deploymentId, deploymentId)))[0];
  }

  /** The deployment's target once it reached a final phase; the agent's output goes into a timeout's message. */
  ended(deploymentId: string, timeoutMs = 60_000) {
    return until('the target to end', async () => {
      const t = await this.target(deploymentId);
      return t && isFinalPhase(t.phase) ? t : undefined;
    }, timeoutMs).catch((e: Error) => {
      throw new Error(`${e.message}\nagent:\n${this.agent.output()}`);
    });
  }

  /** The activation log's lines (`switch <system>`, …) as the simulated host wrote them. */
  async lines(): Promise<string[]> {
    return (await readFile(this.activations, 'utf8')).split('\n').filter(Boolean);
  }

  async switches(system: string): Promise<number> {
    return (await this.lines()).filter((l) => l === `switch ${system}`).length;
  }

  /** The agent's journal, one entry per target, as the agent wrote it. */
  async journal(): Promise<JournalEntry[]> {
    const dir = path.join(this.stateDir, 'journal');
    const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.json'));
    return Promise.all(names.map(async (n) => JSON.parse(await readFile(path.join(dir, n), 'utf8')) as JournalEntry));
  }
}
