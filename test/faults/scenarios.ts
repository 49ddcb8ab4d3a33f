// The fault scenarios: each runs a real rollout on the cluster, breaks something at a
// chosen moment and returns one row. Activations are counted from each host's own
// activation log (the stand-in's switch-to-configuration appends `switch <system>` to
// it), never from the server's view; the server's view is then compared with it.
import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { and, eq, inArray } from 'drizzle-orm';
import * as hostConfig from '@/app/api/v1/hosts/[name]/config/route';
import { until } from '../agent-harness';
import { call } from '../fixtures';
import { db } from '@/lib/db/client';
import { builds, hosts as hostsTable, notifications, requests } from '@/lib/db/schema';
import { isFinalPhase } from '@/lib/db/statuses';
import type { TDeploymentView } from '@/lib/deployments/schemas';
import { createWebhook } from '@/lib/notify/webhooks';
import { kill9, type Cluster, type Proc } from './cluster';

export type Mode = 'ci' | 'full';
export type Row = {
  scenario: string;
  hosts: number;
  activations: number;
  double: number;
  lostOrStuck: number;
  wrong: number;
  convergeSeconds: number | null;
  /** 5xx answers from the servers during the scenario (reported; only 5xx after recovery fail it). */
  fiveXX: number;
  note: string;
  pending?: boolean;
};

export const failed = (r: Row) => !r.pending && (r.double > 0 || r.lostOrStuck > 0 || r.wrong > 0);

export function table(rows: Row[]): string {
  const head = ['scenario', 'hosts', 'activations', 'double', 'lost/stuck', 'wrong final', 'converge s', '5xx', 'note'];
  const lines = rows.map((r) => [r.scenario, r.hosts, r.activations, r.double, r.lostOrStuck, r.wrong, r.convergeSeconds === null ? '-' : r.convergeSeconds.toFixed(1), r.fiveXX, `${r.pending ? 'PENDING ' : failed(r) ? 'FAIL ' : ''}${r.note}`].map(String));
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number))).join('  ');
  return [fmt(head), fmt(widths.map((w) => '-'.repeat(w))), ...lines.map(fmt)].join('\n');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Rollout settings of every scenario: all hosts at once, nothing halts it, so every target meets the fault. */
const ALL_AT_ONCE = { canaries: 0, maxInFlight: '100%', maxFailures: '100%', watchSeconds: 0 };

type Expect = 'succeeded' | 'consistent';

/**
 * Deploys `system` to `hosts`, runs `fault` (which breaks something and returns when the
 * fault began), waits for the deployment to end, and judges every target from the host's
 * side: `succeeded` needs every target succeeded; `consistent` accepts a host that rolled
 * back, as long as host and server agree on what it runs.
 */
async function rollout(
  c: Cluster,
  opts: { scenario: string; hosts: string[]; system: string; rollout?: Record<string, unknown>; expect: Expect; timeoutMs: number; fault: (id: string) => Promise<number>; build?: boolean; before?: () => Promise<void> },
): Promise<Row> {
  const before = new Map(await Promise.all(opts.hosts.map(async (h) => [h, (await c.activations(h)).length] as const)));
  const fiveBefore = await c.fiveXX();
  const json = opts.build ? { hosts: opts.hosts, build: true, rollout: { ...ALL_AT_ONCE, ...opts.rollout } } : { agents: Object.fromEntries(opts.hosts.map((h) => [h, opts.system])), rollout: { ...ALL_AT_ONCE, ...opts.rollout } };
  await opts.before?.();
  const id = await c.deploy(json);
  // A client following the deployment through the API the whole time: its 5xx are what the servers answered.
  let polling = true;
  let lateFiveXX = 0;
  let recoveredAt = Infinity;
  const poller = (async () => {
    while (polling) {
      const status = await c.poll(id);
      if (status >= 500 && Date.now() > recoveredAt) lateFiveXX += 1;
      await sleep(500);
    }
  })();
  let faultAt = Date.now();
  let view: TDeploymentView | null = null;
  let note = '';
  try {
    faultAt = await opts.fault(id);
    // 10 s after the fault ended, the processes must answer again.
    recoveredAt = Date.now() + 10_000;
    view = await c.finished(id, Math.min(opts.timeoutMs, c.opts.finishCapMs ?? Infinity));
  } catch (error) {
    note = `fault step failed: ${error instanceof Error ? error.message : String(error)}; `;
  } finally {
    polling = false;
    await poller;
  }
  const convergeSeconds = view ? (Date.now() - faultAt) / 1000 : null;
  const final = view ?? (await c.view(id));
  // Host and server may need a moment to agree after the last result (the hello's systems, the last heartbeat).
  await until('hosts and server to agree', async () => (await judge(c, opts, final, before)).wrong === 0, 15_000).catch(() => {});
  const judged = await judge(c, opts, final, before);
  const fiveXX = (await c.fiveXX()) - fiveBefore;
  // A deployment that did not end would hold its hosts' places for the next scenario: give it up.
  if (!view) await c.abandon(id);
  if (!view) note += `deployment still ${final.status} at the deadline; `;
  if (lateFiveXX) note += `${lateFiveXX} 5xx after recovery; `;
  return { scenario: opts.scenario, hosts: opts.hosts.length, ...judged, lostOrStuck: judged.lostOrStuck, wrong: judged.wrong + (lateFiveXX ? 1 : 0), convergeSeconds, fiveXX, note: (note + judged.note).trim() };
}

async function judge(c: Cluster, opts: { hosts: string[]; system: string; expect: Expect }, view: TDeploymentView, before: Map<string, number>) {
  const rows = new Map((await c.hostRows()).map((h) => [h.name, h]));
  let activations = 0;
  let double = 0;
  let lostOrStuck = 0;
  let wrong = 0;
  const notes: string[] = [];
  for (const t of view.targets) {
    const system = t.storePath ?? opts.system;
    const all = await c.activations(t.host);
    const added = all.slice(before.get(t.host) ?? 0);
    activations += added.length;
    const toSystem = added.filter((l) => l === `switch ${system}`).length;
    if (toSystem > 1) {
      double += toSystem - 1;
      notes.push(`${t.host} switched to the new system ${toSystem}×`);
    }
    if (!isFinalPhase(t.phase)) {
      lostOrStuck += 1;
      notes.push(`${t.host} stuck in ${t.phase}`);
      continue;
    }
    if (t.phase === 'succeeded' && toSystem === 0) {
      lostOrStuck += 1;
      notes.push(`${t.host} succeeded without activating`);
    }
    const hostRuns = (all.at(-1) ?? '').replace(/^\S+ /, '');
    const serverSays = rows.get(t.host)?.currentSystem ?? '';
    const shouldRun = t.phase === 'succeeded' ? system : t.previousSystem;
    if (hostRuns !== serverSays || (shouldRun && hostRuns !== shouldRun)) {
      wrong += 1;
      notes.push(`${t.host} ${t.phase}: host runs ${hostRuns.slice(11, 20)}, server says ${serverSays.slice(11, 20)}`);
    } else if (opts.expect === 'succeeded' && t.phase !== 'succeeded') {
      wrong += 1;
      notes.push(`${t.host} ${t.phase}${t.error ? ` (${t.error.split('\n')[0]})` : ''}${t.rollbackReason ? ` (${t.rollbackReason.split('\n')[0]})` : ''}`);
    }
  }
  return { activations, double, lostOrStuck, wrong, note: notes.slice(0, 4).join('; ') + (notes.length > 4 ? ` (+${notes.length - 4})` : '') };
}

/** Waits until at least `count` targets are in `phase` (or `hosts`' targets, when given); false when the moment passed. */
async function atPhase(c: Cluster, id: string, phase: string, count = 1, hosts?: string[], timeoutMs = 60_000): Promise<boolean> {
  return until(`${count} target(s) ${phase}`, async () => {
    const v = await c.view(id);
    const ts = v.targets.filter((t) => !hosts || hosts.includes(t.host));
    if (ts.every((t) => isFinalPhase(t.phase))) throw new Error(`every target ended before ${phase}`);
    return ts.filter((t) => t.phase === phase).length >= count;
  }, timeoutMs).catch(() => false);
}

const agentLinks = (c: Cluster, hosts = c.names) => [...hosts.map((h) => c.agents.get(h)?.proxy), c.cacheProxy].filter((p) => p !== undefined);

export type Systems = Record<string, string>;

/** The systems the scenarios deploy, each distinct (so its activations can be counted), built before any worker runs. */
export async function buildSystems(c: Cluster, labels: Record<string, string>): Promise<Systems> {
  const out: Systems = {};
  for (const [key, extra] of Object.entries(labels)) out[key] = await c.buildSystem(`${key}-${c.run}`, extra);
  return out;
}

/** 1. kill -9 the server holding the agents when targets are at `phase`, then start it again. */
export async function serverKill(c: Cluster, system: string, phase: 'sent' | 'downloading' | 'activating' | 'confirming', hosts = c.names): Promise<Row> {
  // Latency on every agent link stretches the short phases (sent, downloading, confirming) so they can be hit.
  for (const p of agentLinks(c)) p.setFaults({ upLatencyMs: 300, downLatencyMs: 300 });
  let missed = false;
  const row = await rollout(c, {
    scenario: `1 server kill -9 at ${phase}`,
    hosts,
    system,
    expect: 'succeeded',
    timeoutMs: 150_000,
    rollout: { confirmTimeoutSeconds: 60 },
    fault: async (id) => {
      missed = !(await atPhase(c, id, phase));
      const victim = c.holdingServer();
      await c.killServer(victim);
      const at = Date.now();
      for (const p of agentLinks(c)) p.clearFaults();
      await sleep(1_000);
      await c.startServer(victim);
      return at;
    },
  });
  for (const p of agentLinks(c)) p.clearFaults();
  if (missed) row.note = `phase ${phase} not seen, killed anyway; ${row.note}`;
  return row;
}

/** 3. kill -9 some agents (their whole process group, as systemd would) when their targets are at `phase`, then start them again. */
export async function agentKill(c: Cluster, system: string, phase: 'sent' | 'downloading' | 'activating' | 'confirming', victims: string[], hosts = c.names): Promise<Row> {
  for (const p of agentLinks(c)) p.setFaults({ upLatencyMs: 300, downLatencyMs: 300 });
  let missed = false;
  const row = await rollout(c, {
    scenario: `3 agent kill -9 at ${phase}`,
    hosts,
    system,
    expect: 'consistent',
    timeoutMs: 150_000,
    rollout: { confirmTimeoutSeconds: 60 },
    fault: async (id) => {
      missed = !(await atPhase(c, id, phase, victims.length, victims));
      for (const v of victims) await c.killAgent(v);
      const at = Date.now();
      for (const p of agentLinks(c)) p.clearFaults();
      await sleep(1_000);
      for (const v of victims) c.startAgent(v);
      return at;
    },
  });
  for (const p of agentLinks(c)) p.clearFaults();
  if (missed) row.note = `phase ${phase} not seen, killed anyway; ${row.note}`;
  return row;
}

/**
 * 5. The links of `victims` go into a blackhole while their targets are confirming, for
 * longer than the confirm timeout: those hosts roll back by themselves, the server records
 * why, and both agree once the link is back. The other hosts succeed.
 */
export async function linkCut(c: Cluster, system: string, victims: string[], cutMs: number, confirmTimeoutSeconds: number, hosts = c.names): Promise<Row> {
  // The confirm is on its way (1.5 s of latency towards the agent) when the link goes.
  for (const v of victims) c.agents.get(v)?.proxy.setFaults({ downLatencyMs: 1_500 });
  let missed = false;
  let deploymentId = '';
  const row = await rollout(c, {
    scenario: `5 link blackholed ${cutMs / 1000} s at confirming`,
    hosts,
    system,
    expect: 'consistent',
    timeoutMs: cutMs + 120_000,
    rollout: { confirmTimeoutSeconds },
    fault: async (id) => {
      deploymentId = id;
      missed = !(await atPhase(c, id, 'confirming', 1, victims));
      for (const v of victims) c.agents.get(v)?.proxy.cut();
      const at = Date.now();
      await sleep(cutMs);
      for (const v of victims) {
        c.agents.get(v)?.proxy.clearFaults();
        c.agents.get(v)?.proxy.resume();
      }
      return at;
    },
  });
  for (const v of victims) c.agents.get(v)?.proxy.clearFaults();
  // What this scenario proves beyond agreement: the cut hosts rolled back, saying why.
  const v = deploymentId ? await c.view(deploymentId) : { targets: [] };
  for (const t of v.targets.filter((t) => victims.includes(t.host))) {
    if (t.phase !== 'rolled-back' || !/confirm/i.test(t.rollbackReason ?? '')) {
      row.wrong += 1;
      row.note += ` ${t.host}: ${t.phase} (${t.rollbackReason ?? t.error ?? 'no reason'}), expected rolled-back for lack of a confirmation;`;
    }
  }
  if (missed) row.note = `confirming not seen, cut anyway; ${row.note}`;
  return row;
}

/** 6. Latency and loss on every agent link (and the cache's): the rollout succeeds and no host ever goes offline. */
export async function lossyLinks(c: Cluster, system: string, latencyMs: number, lossRate: number, hosts = c.names): Promise<Row> {
  for (const p of agentLinks(c)) p.setFaults({ upLatencyMs: latencyMs, downLatencyMs: latencyMs, lossRate });
  const disconnectsBefore = c.disconnections();
  let offlineSeen = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const online = await c.onlineCount();
      if (online < c.names.length) offlineSeen += 1;
      await sleep(250);
    }
  })();
  const row = await rollout(c, {
    scenario: `6 ${latencyMs} ms latency, ${lossRate * 100}% loss`,
    hosts,
    system,
    expect: 'succeeded',
    timeoutMs: 240_000,
    rollout: { confirmTimeoutSeconds: 60 },
    fault: async () => Date.now(),
  });
  sampling = false;
  await sampler;
  for (const p of agentLinks(c)) p.clearFaults();
  const after = c.disconnections();
  const flaps = [...after].reduce((n, [h, count]) => n + count - (disconnectsBefore.get(h) ?? 0), 0);
  if (flaps || offlineSeen) {
    row.wrong += 1;
    row.note += ` ${flaps} agent disconnection(s), offline seen in ${offlineSeen} sample(s);`;
  }
  return row;
}

/** 4. PostgreSQL goes away under the servers and the worker: every connection reset, new ones refused for `outageMs`. */
export async function databaseRestart(c: Cluster, system: string, outageMs: number, hosts = c.names): Promise<Row> {
  return rollout(c, {
    scenario: `4 PostgreSQL reset + ${outageMs / 1000} s refused`,
    hosts,
    system,
    expect: 'succeeded',
    timeoutMs: 150_000,
    rollout: { confirmTimeoutSeconds: 60 },
    fault: async (id) => {
      await atPhase(c, id, 'activating');
      const at = Date.now();
      c.dbProxy.refuse();
      await sleep(outageMs);
      c.dbProxy.resume();
      return at;
    },
  });
}

/** 4. The embedded PostgreSQL (lib/db/embedded.ts) stopped and started again (on a new port, which the proxy follows) mid-rollout. */
export async function embeddedRestart(c: Cluster, system: string, restart: () => Promise<void>): Promise<Row> {
  return rollout(c, {
    scenario: '4 embedded PostgreSQL stop/start',
    hosts: c.names,
    system,
    expect: 'succeeded',
    timeoutMs: 180_000,
    rollout: { confirmTimeoutSeconds: 60 },
    fault: async (id) => {
      await atPhase(c, id, 'activating');
      const at = Date.now();
      await restart();
      return at;
    },
  });
}

/** 2. kill -9 the worker while it releases waves (maxInFlight 2), then start a new one. */
export async function workerKillWaves(c: Cluster, system: string, hosts = c.names): Promise<Row> {
  return rollout(c, {
    scenario: '2 worker kill -9 between waves',
    hosts,
    system,
    expect: 'succeeded',
    timeoutMs: 240_000,
    rollout: { maxInFlight: 2, confirmTimeoutSeconds: 60 },
    fault: async (id) => {
      await until('the first wave to land', async () => (await c.view(id)).targets.filter((t) => t.phase === 'succeeded').length >= 2, 90_000);
      await c.killWorkers();
      const at = Date.now();
      await sleep(1_000);
      c.startWorker();
      return at;
    },
  });
}

/**
 * 2. kill -9 the worker process (not its Nix build, which becomes an orphan) while it
 * builds the hosts' systems; a new worker must take the build over and the rollout finish.
 */
export async function workerKillBuilding(c: Cluster, hosts: string[]): Promise<Row> {
  for (const h of hosts) {
    // A system with a package whose build takes a while: the moment to kill the worker.
    const module = `{ pkgs, ... }: { networking.hostName = "${h}"; environment.systemPackages = [ (builtins.derivation { name = "slow-${c.run}-1.0"; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "sleep 8; mkdir -p $out/bin" ]; }) ]; }`;
    const saved = await call(hostConfig.PUT, { method: 'PUT', token: c.fx.members.operator.token, params: { name: h }, json: { module, packages: ['hello'], baseVersion: 1 } });
    if (saved.status !== 200) throw new Error(`config of ${h}: ${JSON.stringify(saved.json)}`);
  }
  return rollout(c, {
    scenario: '2 worker kill -9 while building',
    hosts,
    system: '',
    build: true,
    expect: 'succeeded',
    timeoutMs: 300_000,
    rollout: { confirmTimeoutSeconds: 60 },
    fault: async () => {
      await until('a build to run', async () => (await db().select().from(builds).where(eq(builds.orgId, c.fx.org.id))).some((b) => b.status === 'running'), 90_000);
      await c.killWorkers(false);
      const at = Date.now();
      await sleep(1_000);
      c.startWorker();
      return at;
    },
  });
}

/**
 * 2. The worker dies right after the commit that wrote an outbox event, before dispatching
 * it (FLOTILLA_CRASH_AT=after-commit:<type>): every webhook still arrives, exactly once.
 * Written against the lead's outbox contract (lib/events/); pending until it exists.
 */
export async function workerCrashAfterCommit(c: Cluster, system: string, hosts: string[], eventType = 'deployment.finished'): Promise<Row> {
  const scenario = `2 worker kill -9 after commit of ${eventType}`;
  if (!existsSync(path.resolve(import.meta.dirname, '../../lib/events'))) {
    return { scenario, hosts: hosts.length, activations: 0, double: 0, lostOrStuck: 0, wrong: 0, convergeSeconds: null, fiveXX: 0, note: 'lib/events (the outbox, FLOTILLA_CRASH_AT) is not in the tree yet', pending: true };
  }
  const received: { id: string; event: string }[] = [];
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      try {
        const parsed = JSON.parse(body) as { id: string; event: string };
        received.push({ id: parsed.id, event: parsed.event });
      } catch {
        /* not ours */
      }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  let neverCrashed = false;
  let crashing: Proc | null = null;
  try {
    await createWebhook(c.fx.members.admin.caller, { name: `faults-${c.run}-${eventType}`, url: `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`, format: 'generic', events: ['deployment.started', 'deployment.finished', 'request.live'] });
    // Self-service requests that follow the deployment: each must end live, its requester told once, its webhook sent once.
    let requestIds: string[] = [];
    const followWithRequests = async (deploymentId: string) => {
      const rows = await db().select({ id: hostsTable.id }).from(hostsTable).where(and(eq(hostsTable.orgId, c.fx.org.id), inArray(hostsTable.name, hosts)));
      const made = await db()
        .insert(requests)
        .values(rows.map((h) => ({ orgId: c.fx.org.id, hostId: h.id, requesterId: c.fx.members.requester.id, kind: 'install' as const, payload: { package: 'hello' }, reason: 'fault suite', status: 'deploying' as const, deploymentId })))
        .returning({ id: requests.id });
      requestIds = made.map((r) => r.id);
    };
    const row = await rollout(c, {
      scenario,
      hosts,
      system,
      expect: 'succeeded',
      timeoutMs: 180_000,
      rollout: { confirmTimeoutSeconds: 60 },
      // The crashing worker is the only one from before the deployment exists, so it is the one to commit the event.
      before: async () => {
        await c.killWorkers();
        crashing = c.startWorker({ FLOTILLA_CRASH_AT: `after-commit:${eventType}` });
      },
      fault: async (id) => {
        await followWithRequests(id);
        const crashed = await Promise.race([(crashing as Proc).exited.then(() => true), sleep(120_000).then(() => false)]);
        // It must have died at the crash point, not of something else.
        if (!crashed || !(crashing as Proc).output().includes('FLOTILLA_CRASH_AT')) {
          neverCrashed = true;
          await kill9(crashing);
        }
        const at = Date.now();
        c.workers = c.workers.filter((w) => w !== crashing);
        c.startWorker();
        return at;
      },
    });
    if (neverCrashed) {
      row.wrong += 1;
      row.note += ` the worker did not die at FLOTILLA_CRASH_AT=after-commit:${eventType} within 120 s;`;
    }
    await until('the webhooks', async () => new Set(received.map((r) => r.event)).size >= 3, 60_000).catch(() => {});
    // The requests moved by the event whose process died: live, and their requesters told exactly once each.
    const live = await until('the requests to be live', async () => {
      const rows = await db().select({ id: requests.id, status: requests.status }).from(requests).where(inArray(requests.id, requestIds));
      return rows.length === requestIds.length && rows.every((r) => r.status === 'live') ? rows : undefined;
    }, 60_000).catch(() => null);
    if (!live) {
      row.lostOrStuck += 1;
      row.note += ' a request did not go live;';
    }
    const told = await db().select({ key: notifications.eventKey }).from(notifications).where(inArray(notifications.eventKey, requestIds.map((r) => `${r}:live`)));
    if (told.length > requestIds.length) {
      row.double += told.length - requestIds.length;
      row.note += ` ${told.length - requestIds.length} requester notification(s) twice;`;
    } else if (told.length < requestIds.length) {
      row.lostOrStuck += requestIds.length - told.length;
      row.note += ` ${requestIds.length - told.length} requester notification(s) lost;`;
    }
    if (received.filter((r) => r.event === 'request.live').length !== requestIds.length) {
      row.note += ` ${received.filter((r) => r.event === 'request.live').length} request.live webhooks for ${requestIds.length} requests;`;
      row.lostOrStuck += 1;
    }
    const ids = received.map((r) => r.id);
    const dupes = ids.length - new Set(ids).size;
    const events = new Set(received.map((r) => r.event));
    if (dupes) {
      row.double += dupes;
      row.note += ` ${dupes} webhook(s) delivered twice;`;
    }
    for (const e of ['deployment.started', 'deployment.finished']) {
      if (!events.has(e)) {
        row.lostOrStuck += 1;
        row.note += ` webhook ${e} lost;`;
      }
    }
    return row;
  } finally {
    receiver.close();
  }
}

/**
 * 7. A build whose job was never sent (a crash between the commit and the send): the row
 * is `queued` with no pg-boss job. The worker's sweep must run it or requeue it within a minute.
 */
export async function buildJobLost(c: Cluster): Promise<Row> {
  const started = Date.now();
  const [template] = await db().select().from(builds).where(eq(builds.orgId, c.fx.org.id)).limit(1);
  if (!template) throw new Error('no build to copy');
  const [row] = await db()
    .insert(builds)
    .values({ orgId: template.orgId, hostId: template.hostId, configVersion: template.configVersion, preview: false, inputs: template.inputs, inputHash: `faults-${c.run}-${Date.now()}`, createdBy: template.createdBy })
    .returning({ id: builds.id });
  const picked = await until('the orphaned build to be picked up', async () => {
    const [b] = await db().select().from(builds).where(eq(builds.id, row?.id as string));
    return b && b.status !== 'queued' ? b.status : undefined;
  }, 90_000).catch(() => null);
  return {
    scenario: '7 build job never sent',
    hosts: 0,
    activations: 0,
    double: 0,
    lostOrStuck: picked ? 0 : 1,
    wrong: 0,
    convergeSeconds: picked ? (Date.now() - started) / 1000 : null,
    fiveXX: 0,
    note: picked ? `build ${picked}` : 'still queued after 90 s (no sweep re-sends it)',
  };
}
