// A deployment to N hosts (issue 17): N simulated agents (bench/sim) connected to the
// real server, a real worker running the rollout driver, and one deployment of a new
// system to every host through the real API (deploy.json, no canaries, 100 % in flight).
// Measures the POST, API call → each agent's `deploy` frame (p50/p99/max), → its
// `confirm`, → every target recorded succeeded, → the deployment succeeded; counts late
// confirms, agents rolled back, hosts wrongly offline during it and deadlocks.
//   npm run bench:fanout -- --hosts 10000 [--servers 1] [--timeout 600] [--confirm-timeout 120] [--sim-nice 10] [--logs DIR]
import { SimFleet } from './sim/fleet';
import {
  benchDatabase,
  BenchQueries,
  buildOnce,
  flag,
  flotillaEnv,
  FlotillaProcess,
  fmt,
  log,
  machine,
  main,
  max,
  mean,
  onCleanup,
  percentile,
  PgStats,
  printProblems,
  printTable,
  ProcSampler,
  secs,
  seedFleet,
  sleep,
  storePath,
  textFlag,
  type Row,
} from './sim/harness';

const N = flag('hosts', 1_000);
const SERVERS = Math.max(1, Math.floor(flag('servers', 1)));
const TIMEOUT = flag('timeout', 600);
const CONFIRM_TIMEOUT = flag('confirm-timeout', 120);
const LOGS = textFlag('logs');
const SIM_NICE = flag('sim-nice', 10);
const FINAL = new Set(['succeeded', 'failed', 'halted', 'cancelled', 'rolled-back']);

main(async () => {
  log(`bench:fanout: a deployment to ${N} hosts on ${SERVERS} server process(es); ${machine()}`);
  buildOnce();
  const database = await benchDatabase();
  const fleet = await seedFleet(N);
  const env = flotillaEnv(database);
  const servers = Array.from({ length: SERVERS }, (_, i) => new FlotillaProcess('server', `server-${i + 1}`, env, database.tmp));
  const worker = new FlotillaProcess('worker', 'worker', env, database.tmp);
  await Promise.all(servers.map((s) => s.start()));
  await worker.start();
  if (LOGS) onCleanup(async () => void (await Promise.all([...servers, worker].map((p) => p.keepLog(LOGS)))));
  const samplers = servers.map((s) => new ProcSampler(() => s.pid));
  const pg = new PgStats(database.adminUrl, database.name);
  const queries = new BenchQueries(database.url);
  const { sql } = queries;

  // Every agent connected and online, each reporting the system it was seeded with.
  const sim = new SimFleet(fleet.hosts, servers.map((s) => `ws://127.0.0.1:${s.port}`), { log, nice: SIM_NICE });
  onCleanup(
    () => sim.stop(),
    () => sim.kill(),
  );
  const connectStart = performance.now();
  await sim.start();
  for (let lastLog = 0; ; ) {
    const online = await queries.onlineCount(fleet.orgId);
    if (sim.connected() === N && online === N) break;
    if (performance.now() - lastLog > 5_000) {
      log(`connecting: ${sim.connected()} agents greeted, ${online} online`);
      lastLog = performance.now();
    }
    if (performance.now() - connectStart > TIMEOUT * 1000) throw new Error(`not all ${N} agents connected within ${TIMEOUT} s`);
    await sleep(500);
  }
  log(`all ${N} agents connected in ${((performance.now() - connectStart) / 1000).toFixed(1)} s`);
  if (worker.proc?.exitCode !== null) throw new Error('the worker exited: no rollout driver to measure');
  await sleep(3_000);

  // The new system, as a closure the cache holds: what lib/cache/closure.ts walks (one path, no references).
  const system = storePath('nixos-system');
  const storeHash = system.slice('/nix/store/'.length, '/nix/store/'.length + 32);
  await sql`insert into cache_objects (org_id, store_hash, store_path, nar_url, file_size, nar_hash, nar_size, "references")
            values (${fleet.orgId}, ${storeHash}, ${system}, ${`nar/${storeHash}.nar.xz`}, 1024, ${'sha256:' + '0'.repeat(52)}, 4096, ${[]}::text[])`;

  const body = JSON.stringify({
    agents: Object.fromEntries(fleet.hosts.map((h) => [h.name, system])),
    rollout: { canaries: 0, maxInFlight: '100%', confirmTimeoutSeconds: CONFIRM_TIMEOUT },
  });
  for (const s of samplers) s.reset();
  const before = await pg.read();
  const deployFrom = performance.now();
  const counters0 = sim.counters();
  const apiAt = Date.now();
  const response = await fetch(`${servers[0]?.url}/api/v1/deployments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${fleet.token}`, 'content-type': 'application/json' },
    body,
    signal: AbortSignal.timeout(TIMEOUT * 1000),
  });
  const postMs = Date.now() - apiAt;
  const created = (await response.json()) as { id?: string; error?: unknown };
  if (response.status !== 201 || !created.id) throw new Error(`POST /api/v1/deployments answered ${response.status}: ${JSON.stringify(created).slice(0, 500)}`);
  const deploymentId = created.id;
  log(`POST answered 201 in ${postMs} ms: deployment ${deploymentId}`);

  // Until the deployment ends: every target's phase, the deployment's status, hosts wrongly offline.
  const wronglyOffline = new Set<string>();
  let allSucceededAt: number | null = null;
  let statusAt: number | null = null;
  let status = 'pending';
  let phases: Record<string, number> = {};
  let lastLog = 0;
  let lastOfflineCheck = 0;
  while (Date.now() - apiAt < TIMEOUT * 1000) {
    const rows = await sql<{ phase: string; n: number }[]>`select phase, count(*)::int as n from deployment_targets where deployment_id = ${deploymentId} group by phase`;
    phases = Object.fromEntries(rows.map((r) => [r.phase, r.n]));
    const [d] = await sql<{ status: string }[]>`select status from deployments where id = ${deploymentId}`;
    status = d?.status ?? 'missing';
    const now = Date.now();
    if (allSucceededAt === null && phases.succeeded === N) allSucceededAt = now;
    if (FINAL.has(status)) {
      statusAt = now;
      break;
    }
    if (now - lastOfflineCheck > 2_000) {
      const offline = await queries.offlineIds(fleet.orgId);
      for (const id of await sim.connectedSince(offline, Date.now() - 1_000)) wronglyOffline.add(id);
      lastOfflineCheck = now;
    }
    if (now - lastLog > 5_000) {
      const c = sim.counters();
      log(`${((now - apiAt) / 1000).toFixed(0)} s: ${status}; targets ${JSON.stringify(phases)}; agents got ${c.deploys - counters0.deploys} deploys, ${c.confirms - counters0.confirms} confirms`);
      lastLog = now;
    }
    await sleep(250);
  }
  const after = await pg.read();
  const deployEnd = performance.now();
  // The last results may still be on their way when the deployment is recorded as over.
  await sleep(1_000);
  const counters = sim.counters();
  const timings = (await sim.timings()).filter((t) => t.deployAt >= apiAt);
  const sorted = (xs: number[]) => xs.sort((a, b) => a - b);
  const deployMs = sorted(timings.map((t) => t.deployAt - apiAt));
  const confirmMs = sorted(timings.flatMap((t) => (t.confirmAt === null ? [] : [t.confirmAt - apiAt])));
  const resultMs = sorted(timings.flatMap((t) => (t.resultAt === null ? [] : [t.resultAt - apiAt])));
  const deployToConfirm = sorted(timings.flatMap((t) => (t.confirmAt === null ? [] : [t.confirmAt - t.deployAt])));
  const spread = (xs: number[]) => `p50 ${secs(percentile(xs, 0.5))}, p99 ${secs(percentile(xs, 0.99))}, max ${secs(max(xs))}`;
  const lastResult = max(resultMs);
  // Where the time went, from the rows' own timestamps (the database's clock is this machine's).
  const [stamps] = await sql<{ created: Date; started: Date | null; released: [Date, Date]; sent: [Date, Date] }[]>`
    select d.created_at as created, d.started_at as started,
      array[min(t.released_at), max(t.released_at)] as released, array[min(t.sent_at), max(t.sent_at)] as sent
    from deployments d join deployment_targets t on t.deployment_id = d.id where d.id = ${deploymentId} group by d.id`;
  const since = (at: Date | null | undefined) => (at ? secs(new Date(at).getTime() - apiAt) : '—');
  const recordedMs = allSucceededAt === null ? NaN : allSucceededAt - apiAt;

  const rows: Row[] = [
    { what: 'POST /api/v1/deployments', measured: `${fmt(postMs)} ms (201)`, goal: '— (was 1.9–3.5 s at 5,000)' },
    {
      what: 'API call → `deploy` frame at each agent',
      measured: `${fmt(deployMs.length)} of ${fmt(N)} agents: ${spread(deployMs)}`,
      goal: 'p99 ≤ 1 s at 10,000 hosts',
      met: deployMs.length === N && percentile(deployMs, 0.99) <= 1000,
    },
    {
      what: 'API call → rows written (database clock)',
      measured: `deployment created ${since(stamps?.created)}, started ${since(stamps?.started)}; targets released ${since(stamps?.released[0])}–${since(stamps?.released[1])}, sent ${since(stamps?.sent[0])}–${since(stamps?.sent[1])}`,
      goal: 'where the time to the `deploy` frames goes',
    },
    { what: 'API call → `confirm` at each agent', measured: `${fmt(confirmMs.length)} agents: ${spread(confirmMs)}`, goal: 'every confirm within the confirm timeout' },
    {
      what: '`deploy` → `confirm` (the agent waits for it)',
      measured: `${spread(deployToConfirm)}; ${counters.lateConfirms - counters0.lateConfirms} later than ${CONFIRM_TIMEOUT} s`,
      goal: `none later than ${CONFIRM_TIMEOUT} s`,
      met: counters.lateConfirms - counters0.lateConfirms === 0,
    },
    {
      what: 'API call → every target recorded succeeded',
      measured: `${secs(recordedMs)} (agents sent their last result at ${secs(lastResult)}: recorded ${secs(recordedMs - lastResult)} after)`,
      goal: 'results recorded as fast as agents send them',
    },
    { what: 'API call → deployment succeeded', measured: `${status === 'succeeded' ? secs((statusAt as number) - apiAt) : `${status} after ${secs(Date.now() - apiAt)}`}`, goal: '— (was 144–172 s at 5,000)', met: status === 'succeeded' },
    { what: 'agents rolled back (no confirm in time)', measured: String(counters.rolledBack - counters0.rolledBack), goal: '0', met: counters.rolledBack - counters0.rolledBack === 0 },
    { what: 'repeated `deploy` frames (same target again)', measured: String(counters.repeatedDeploys - counters0.repeatedDeploys), goal: '0 (one delivery per target)' },
    { what: 'hosts wrongly offline during the deployment', measured: String(wronglyOffline.size), goal: '0', met: wronglyOffline.size === 0 },
    { what: 'deadlocks (pg_stat_database)', measured: String(after.deadlocks - before.deadlocks), goal: '0', met: after.deadlocks === before.deadlocks },
    {
      what: 'database during the deployment',
      measured: `${fmt(after.xact - before.xact)} transactions, ${fmt(after.updated - before.updated)} rows updated, ${fmt(after.inserted - before.inserted)} inserted`,
      goal: `O(targets): ~${fmt(N)} each`,
    },
    ...servers.map((_, i) => ({
      what: `server ${i + 1} during the deployment`,
      measured: `CPU ${fmt(mean(samplers[i]?.cpu ?? []), 0)} % mean, RSS max ${fmt(max(samplers[i]?.rss ?? []))} MB`,
      goal: '—',
    })),
    {
      what: `simulator (${sim.processes} processes, nice ${SIM_NICE}): event-loop delay`,
      measured: `p99 ${fmt(sim.lag(deployFrom, deployEnd).p99)} ms, max ${fmt(sim.lag(deployFrom, deployEnd).max)} ms`,
      goal: 'small next to the figures above',
    },
  ];
  printTable(`bench:fanout — one deployment to ${fmt(N)} hosts, ${SERVERS} server process(es); ${new Date().toISOString().slice(0, 16)}Z; ${machine()}`, rows);
  console.log(`targets by phase at the end: ${JSON.stringify(phases)}; deployment ${status}`);
  console.log(`sim totals: ${JSON.stringify(counters)}`);
  printProblems([...servers, worker]);
});
