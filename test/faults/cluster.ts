// The fleet the fault suite breaks: two server processes (test/faults/server-process.ts)
// and worker.ts on one PostgreSQL, reached through a fault proxy; real agents (the
// esbuild bundle of agent/main.ts), each on its own store root and state directory and
// behind its own fault proxy to the servers (which fails over from server A to B, as a
// load balancer would); the binary cache behind one more proxy. Every process is the
// leader of its own process group, and `close` kills every group, whatever happened.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { and, eq, inArray, notInArray } from 'drizzle-orm';
import * as deploymentById from '@/app/api/v1/deployments/[id]/route';
import * as hostConfig from '@/app/api/v1/hosts/[name]/config/route';
import * as hostsRoute from '@/app/api/v1/hosts/route';
import { requestBuild } from '@/lib/builds/request-build';
import { runBuild } from '@/lib/builds/run-build';
import { db } from '@/lib/db/client';
import { builds, deploymentTargets, deployments, hosts as hostsTable } from '@/lib/db/schema';
import { FINAL_DEPLOYMENT_STATUSES, FINAL_TARGET_PHASES, isFinalDeployment } from '@/lib/db/statuses';
import type { TDeploymentView } from '@/lib/deployments/schemas';
import { resetEnvCache } from '@/lib/env';
import { findHost } from '@/lib/hosts/reach';
import { buildAgent } from '../../scripts/build-agent';
import { until } from '../agent-harness';
import { call, makeOrg, type OrgFixture } from '../fixtures';
import { FaultProxy } from './proxy';

const root = path.resolve(import.meta.dirname, '../..');

export type Proc = { child: ChildProcess; output: () => string; exited: Promise<number | null> };

/** A process leading its own group, so that killing it kills what it started (as systemd stops a unit's cgroup). */
export function spawnGroup(args: string[], env: Record<string, string>, onLine?: (text: string) => void): Proc {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  const add = (d: Buffer) => {
    out += d;
    if (out.length > 2_000_000) out = out.slice(-1_000_000);
    onLine?.(d.toString());
  };
  if (child.pid) groups.add(child.pid);
  child.once('exit', () => child.pid && groups.delete(child.pid));
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  return { child, output: () => out, exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null)))) };
}

/** SIGKILL to the process (and, with `group`, everything it started). */
export async function kill9(proc: Proc | null | undefined, group = true) {
  if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  try {
    if (group && proc.child.pid) process.kill(-proc.child.pid, 'SIGKILL');
    else proc.child.kill('SIGKILL');
  } catch {
    proc.child.kill('SIGKILL');
  }
  await proc.exited;
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export type ClusterOptions = {
  tmp: string;
  hosts: number;
  /** Extra environment for agents (e.g. a short silence timeout). */
  agentEnv?: Record<string, string>;
  log?: (line: string) => void;
  /** The longest any rollout may take to end after its fault (CI keeps failures short). */
  finishCapMs?: number;
};

/** Every process group started here, killed when this process exits however it exits. */
const groups = new Set<number>();
process.once('exit', () => {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

type Agent = { name: string; proxy: FaultProxy; stateDir: string; storeRoot: string; activationLog: string; proc: Proc | null };
type ServerSlot = { port: number; proc: Proc | null; fiveXX: number };

export class Cluster {
  readonly run = Math.random().toString(36).slice(2, 7);
  fx!: OrgFixture;
  bundle = '';
  dbProxy!: FaultProxy;
  cacheProxy!: FaultProxy;
  readonly servers: ServerSlot[] = [];
  readonly agents = new Map<string, Agent>();
  workers: Proc[] = [];
  private builderVersion = 1;
  private proxiedDbUrl = '';
  readonly log: (line: string) => void;

  constructor(readonly opts: ClusterOptions) {
    this.log = opts.log ?? ((line) => console.log(`[faults] ${line}`));
  }

  get names() {
    return [...this.agents.keys()];
  }

  get builder() {
    return `b${this.run}`;
  }

  /** Servers, proxies, the organisation and its hosts; agents enrolled and connected. No worker yet. */
  async start() {
    const { tmp } = this.opts;
    process.env.FLOTILLA_DATA_DIR = tmp;
    resetEnvCache();
    const direct = new URL(process.env.DATABASE_URL as string);
    this.dbProxy = new FaultProxy([{ host: direct.hostname, port: Number(direct.port || 5432) }], 'db');
    await this.dbProxy.start();
    const proxied = new URL(direct);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(this.dbProxy.port);
    this.proxiedDbUrl = proxied.toString();

    this.servers.push({ port: await freePort(), proc: null, fiveXX: 0 }, { port: await freePort(), proc: null, fiveXX: 0 });
    // Agents reach the servers through their own proxies; the cache URL they pin (FLOTILLA_URL) is this one.
    this.cacheProxy = new FaultProxy(this.serverTargets(), 'cache');
    await this.cacheProxy.start();
    await Promise.all([this.startServer(0), this.startServer(1)]);
    this.fx = await makeOrg();
    // FAULTS_AGENT_BUNDLE runs another agent build (e.g. an older commit's) against today's servers.
    this.bundle = process.env.FAULTS_AGENT_BUNDLE ?? (await buildAgent(path.join(tmp, 'flotilla-agent.mjs')));
    await call(hostsRoute.POST, { method: 'POST', token: this.fx.members.operator.token, json: { name: this.builder } });

    const names = Array.from({ length: this.opts.hosts }, (_, i) => `f${this.run}-${String(i).padStart(2, '0')}`);
    for (const name of names) {
      const created = await call(hostsRoute.POST, { method: 'POST', token: this.fx.members.operator.token, json: { name } });
      if (created.status !== 201) throw new Error(`creating ${name}: ${JSON.stringify(created.json)}`);
      const proxy = new FaultProxy(this.serverTargets(), name);
      await proxy.start();
      const agent: Agent = { name, proxy, stateDir: path.join(tmp, 'state', name), storeRoot: path.join(tmp, 'roots', name), activationLog: path.join(tmp, `${name}.activations`), proc: null };
      await mkdir(agent.stateDir, { recursive: true });
      await writeFile(agent.activationLog, '');
      const enrol = spawnGroup([this.bundle, 'enroll', '--server', proxy.url, '--token', created.json.enrollToken, '--state-dir', agent.stateDir], {});
      if ((await enrol.exited) !== 0) throw new Error(`enrolling ${name}: ${enrol.output()}`);
      this.agents.set(name, agent);
      this.startAgent(name);
    }
    await until('all agents online', async () => (await this.onlineCount()) === this.opts.hosts, 90_000);
  }

  private serverTargets() {
    return this.servers.map((s) => ({ host: '127.0.0.1', port: s.port }));
  }

  async startServer(i: number) {
    const slot = this.servers[i] as ServerSlot;
    const proc = spawnGroup(['--import', 'tsx', 'test/faults/server-process.ts'], {
      FAULTS_PORT: String(slot.port),
      DATABASE_URL: this.proxiedDbUrl,
      FLOTILLA_URL: this.cacheProxy.url,
      FLOTILLA_DATA_DIR: this.opts.tmp,
    });
    slot.proc = proc;
    await until(`server ${i} to be ready`, async () => /READY/.test(proc.output()) || (proc.child.exitCode !== null && Promise.reject(new Error(proc.output()))), 60_000);
  }

  /** kill -9 the server (its 5xx count is kept). */
  async killServer(i: number) {
    const slot = this.servers[i] as ServerSlot;
    slot.fiveXX += await this.serverFiveXX(i);
    await kill9(slot.proc);
    slot.proc = null;
  }

  /** The server most agent connections reach now. */
  holdingServer(): number {
    const counts = new Map<number, number>();
    for (const a of this.agents.values()) for (const [port, n] of a.proxy.connectionsByTarget()) counts.set(port, (counts.get(port) ?? 0) + n);
    const [port] = [...counts.entries()].sort((x, y) => y[1] - x[1])[0] ?? [this.servers[0]?.port];
    return this.servers.findIndex((s) => s.port === port);
  }

  private async serverFiveXX(i: number): Promise<number> {
    const slot = this.servers[i] as ServerSlot;
    if (!slot.proc) return 0;
    try {
      const res = await fetch(`http://127.0.0.1:${slot.port}/faults/stats`, { signal: AbortSignal.timeout(2_000) });
      const counts = (await res.json()) as Record<string, number>;
      return Object.entries(counts).reduce((sum, [status, n]) => sum + (Number(status) >= 500 ? n : 0), 0);
    } catch {
      return 0;
    }
  }

  /** 5xx answers from the API and the cache of every server since the start. */
  async fiveXX(): Promise<number> {
    let total = 0;
    for (let i = 0; i < this.servers.length; i++) total += (this.servers[i] as ServerSlot).fiveXX + (await this.serverFiveXX(i));
    return total;
  }

  startWorker(env: Record<string, string> = {}): Proc {
    const proc = spawnGroup(['--import', 'tsx', 'worker.ts'], { DATABASE_URL: this.proxiedDbUrl, FLOTILLA_URL: this.cacheProxy.url, FLOTILLA_DATA_DIR: this.opts.tmp, ...env });
    this.workers.push(proc);
    return proc;
  }

  /** kill -9 every worker; with `group` false only the worker process itself (its Nix builds are left as orphans). */
  async killWorkers(group = true) {
    for (const w of this.workers) await kill9(w, group);
    this.workers = this.workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
  }

  workerOutput() {
    return this.workers.map((w) => w.output().slice(-3000)).join('\n---\n');
  }

  startAgent(name: string) {
    const a = this.agents.get(name) as Agent;
    a.proc = spawnGroup([this.bundle, 'run', '--state-dir', a.stateDir, '--store-root', a.storeRoot], {
      FLOTILLA_ACTIVATION_LOG: a.activationLog,
      FLOTILLA_AGENT_BACKOFF_MS: '200',
      ...this.opts.agentEnv,
    });
  }

  async killAgent(name: string) {
    const a = this.agents.get(name) as Agent;
    await kill9(a.proc);
    a.proc = null;
  }

  /** Every agent's output so far, by host. */
  agentOutput(name: string) {
    return this.agents.get(name)?.proc?.output() ?? '';
  }

  /** Disconnections each agent logged (its connection's `disconnected (…)` line). */
  disconnections(): Map<string, number> {
    return new Map([...this.agents.values()].map((a) => [a.name, (a.proc?.output().match(/disconnected \(/g) ?? []).length]));
  }

  async activations(name: string): Promise<string[]> {
    return (await readFile((this.agents.get(name) as Agent).activationLog, 'utf8')).split('\n').filter(Boolean);
  }

  async onlineCount() {
    const rows = await db().select({ online: hostsTable.online }).from(hostsTable).where(and(eq(hostsTable.orgId, this.fx.org.id), inArray(hostsTable.name, this.names)));
    return rows.filter((r) => r.online).length;
  }

  async hostRows() {
    return db().select().from(hostsTable).where(and(eq(hostsTable.orgId, this.fx.org.id), inArray(hostsTable.name, this.names)));
  }

  /** Builds a stand-in system on the builder host (in this process, before any worker runs); deploy.json sends it anywhere. */
  async buildSystem(label: string, extra = '', packages = ['hello']): Promise<string> {
    const module = `{ ... }: { networking.hostName = "${label}"; ${extra} }`;
    const saved = await call(hostConfig.PUT, { method: 'PUT', token: this.fx.members.operator.token, params: { name: this.builder }, json: { module, packages, baseVersion: this.builderVersion } });
    if (saved.status !== 200) throw new Error(`saving ${label}: ${JSON.stringify(saved.json)}`);
    this.builderVersion = saved.json.version;
    const { buildId } = await requestBuild(this.fx.members.operator.caller, await findHost(this.fx.members.operator.caller, this.builder));
    const outcome = await runBuild(buildId);
    if (outcome !== 'built') throw new Error(`building ${label}: ${outcome}`);
    return (await db().select().from(builds).where(eq(builds.id, buildId)))[0]?.storePath as string;
  }

  /** POST /api/v1/deployments on a server process (server B unless it is down), with the operator's token. */
  async deploy(json: unknown, server = 1): Promise<string> {
    const slot = this.servers[this.servers[server]?.proc ? server : 1 - server] as ServerSlot;
    const res = await fetch(`http://127.0.0.1:${slot.port}/api/v1/deployments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.fx.members.operator.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(json),
    });
    const body = (await res.json()) as { id?: string };
    if (res.status !== 201 || !body.id) throw new Error(`deploying: ${res.status} ${JSON.stringify(body)}`);
    return body.id;
  }

  /** The deployment as the API shows it, read in this process straight from PostgreSQL (never through the proxy). */
  async view(id: string): Promise<TDeploymentView> {
    return (await call(deploymentById.GET, { token: this.fx.members.operator.token, params: { id } })).json as TDeploymentView;
  }

  /** GET the deployment through a server process, as a client polling the API would; returns the status code. */
  async poll(id: string): Promise<number> {
    for (const i of [1, 0]) {
      const slot = this.servers[i] as ServerSlot;
      if (!slot.proc) continue;
      try {
        const res = await fetch(`http://127.0.0.1:${slot.port}/api/v1/deployments/${id}`, { headers: { authorization: `Bearer ${this.fx.members.operator.token}` }, signal: AbortSignal.timeout(5_000) });
        await res.arrayBuffer();
        return res.status;
      } catch {
        continue;
      }
    }
    return 0;
  }

  async finished(id: string, timeoutMs: number): Promise<TDeploymentView | null> {
    return until(`deployment ${id} to finish`, async () => {
      // PostgreSQL may be down for a moment (scenario 4): ask again.
      const v = await this.view(id).catch(() => undefined);
      return v && isFinalDeployment(v.status) ? v : undefined;
    }, timeoutMs).catch(() => null);
  }

  /**
   * The suite's own clean-up after a scenario whose deployment never ended (already
   * counted as lost or stuck): its unfinished targets and the deployment are marked failed
   * in the database, so the next scenario's targets for those hosts are not held behind them.
   */
  async abandon(id: string) {
    const note = 'fault suite: abandoned after the scenario deadline';
    await db().update(deploymentTargets).set({ phase: 'failed', error: note, finishedAt: new Date() }).where(and(eq(deploymentTargets.deploymentId, id), notInArray(deploymentTargets.phase, [...FINAL_TARGET_PHASES])));
    await db().update(deployments).set({ status: 'failed', reason: note, finishedAt: new Date() }).where(and(eq(deployments.id, id), notInArray(deployments.status, [...FINAL_DEPLOYMENT_STATUSES])));
  }

  /** Every process's output so far, one file each, for a failed run to be read afterwards. */
  async dumpLogs(dir: string) {
    await mkdir(dir, { recursive: true });
    for (const a of this.agents.values()) {
      await writeFile(path.join(dir, `agent-${a.name}.log`), a.proc?.output() ?? '');
      await writeFile(path.join(dir, `activations-${a.name}.log`), (await this.activations(a.name)).join('\n'));
    }
    for (const [i, s] of this.servers.entries()) await writeFile(path.join(dir, `server-${i}.log`), s.proc?.output() ?? '');
    for (const [i, w] of this.workers.entries()) await writeFile(path.join(dir, `worker-${i}.log`), w.output());
  }

  async close() {
    for (const w of this.workers) await kill9(w);
    for (const a of this.agents.values()) await kill9(a.proc);
    for (const s of this.servers) await kill9(s.proc);
    for (const a of this.agents.values()) await a.proxy.stop();
    await this.cacheProxy?.stop();
    await this.dbProxy?.stop();
  }
}
