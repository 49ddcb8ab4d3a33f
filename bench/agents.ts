// Agents held by real server processes (issue 17): N simulated agents with real host
// credentials (bench/sim) connect to `--servers` server processes sharing one database,
// with a worker running the presence sweep. Measures the time to connect them all, then
// a steady state at the production heartbeat interval (server RSS and CPU, the
// database's transactions and rows written per second against an idle window of the
// same processes, hosts wrongly marked offline), then a reconnect storm: kill -9 of every
// server, a restart, and the time until every agent is back. Prints each figure next to
// its goal.
//   npm run bench:agents -- --agents 19000 [--servers 2] [--duration 60] [--idle 15] [--after-storm 60] [--sim-nice 10] [--logs DIR]
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
  PgStats,
  printProblems,
  printTable,
  ProcSampler,
  secs,
  seedFleet,
  serverCount,
  sleep,
  textFlag,
  type Row,
} from './sim/harness';

const N = flag('agents', 2_000);
const SERVERS = Math.max(1, Math.floor(flag('servers', 1)));
const DURATION = flag('duration', 60);
const IDLE = flag('idle', 15);
const AFTER_STORM = flag('after-storm', 60);
const CONNECT_TIMEOUT = flag('connect-timeout', 900);
const STORM_TIMEOUT = flag('storm-timeout', 900);
const LOGS = textFlag('logs');
const SIM_NICE = flag('sim-nice', 10);

main(async () => {
  log(`bench:agents: ${N} agents on ${SERVERS} server process(es); ${machine()}`);
  buildOnce();
  const database = await benchDatabase();
  const seedStart = performance.now();
  const fleet = await seedFleet(N);
  const seedMs = performance.now() - seedStart;
  log(`seeded ${N} enrolled hosts in ${(seedMs / 1000).toFixed(2)} s (${database.embedded ? 'embedded PostgreSQL' : 'DATABASE_URL'})`);

  const env = flotillaEnv(database);
  const servers = Array.from({ length: SERVERS }, (_, i) => new FlotillaProcess('server', `server-${i + 1}`, env, database.tmp));
  const worker = new FlotillaProcess('worker', 'worker', env, database.tmp);
  await Promise.all(servers.map((s) => s.start()));
  await worker.start();
  log(`servers on ${servers.map((s) => s.port).join(', ')} (pids ${servers.map((s) => s.pid).join(', ')}), worker pid ${worker.pid}`);
  if (LOGS) onCleanup(async () => void (await Promise.all([...servers, worker].map((p) => p.keepLog(LOGS)))));
  const samplers = servers.map((s) => new ProcSampler(() => s.pid));
  const pg = new PgStats(database.adminUrl, database.name);
  const queries = new BenchQueries(database.url);
  // The servers' own count of sockets, if they expose one; asked once first, as /metrics also queries the database.
  const exposesCount = (await serverCount(servers[0]?.url ?? '', fleet.token)) !== null;
  if (!exposesCount) log('the servers expose no count of the agent sockets they hold (no flotilla_gateway_* gauge in /metrics): judged by the agents and the database only');
  const counted = async () => {
    if (!exposesCount) return null;
    const counts = await Promise.all(servers.map((s) => serverCount(s.url, fleet.token)));
    return counts.every((c) => c !== null) ? counts.reduce((a: number, b) => a + (b as number), 0) : null;
  };

  // Idle: the same processes with no agent, for what the database does anyway (the worker's queue, sweeps),
  // after the worker's first start settled (pg-boss creating its schema writes thousands of catalog rows).
  await sleep(20_000);
  const idleStart = await pg.read();
  const idleQueries = queries.count;
  await sleep(IDLE * 1000);
  const idleEnd = await pg.read();
  const idleTx = (idleEnd.xact - idleStart.xact - (queries.count - idleQueries)) / ((idleEnd.at - idleStart.at) / 1000);
  const idleUpdates = (idleEnd.updated - idleStart.updated) / ((idleEnd.at - idleStart.at) / 1000);
  const idleInserts = (idleEnd.inserted - idleStart.inserted) / ((idleEnd.at - idleStart.at) / 1000);

  // ---------------------------------------------------------------- connect
  const sim = new SimFleet(fleet.hosts, servers.map((s) => `ws://127.0.0.1:${s.port}`), { log, nice: SIM_NICE });
  onCleanup(
    () => sim.stop(),
    () => sim.kill(),
  );
  for (const s of samplers) s.reset();
  const connectStart = performance.now();
  await sim.start();
  /**
   * Until every agent is greeted (on a connection greeted after `since`), every host online
   * in the database and, if the servers say, held by them. A database that still disagrees
   * a minute after every agent was greeted is not waited for: that is hosts wrongly offline.
   */
  const waitAll = async (label: string, timeoutS: number, since?: number) => {
    const started = performance.now();
    let lastLog = 0;
    let agentsAt = NaN;
    let maxOnline = 0;
    for (;;) {
      const agents = since === undefined ? sim.connected() : (sim.welcomedAfter(since) ?? 0);
      const online = await queries.onlineCount(fleet.orgId);
      const count = await counted();
      maxOnline = Math.max(maxOnline, online);
      if (agents === N && !Number.isFinite(agentsAt)) agentsAt = performance.now();
      if (agents === N && online === N && (count === null || count === N)) return { allAt: performance.now(), agentsAt, count, maxOnline };
      if (agents === N && performance.now() - agentsAt > 60_000) return { allAt: NaN, agentsAt, count, maxOnline };
      if (performance.now() - lastLog > 5_000) {
        const c = sim.counters();
        log(`${label}: ${agents} agents greeted, ${online} online in the database${count === null ? '' : `, ${count} held by the servers`}; ${c.attempts} attempts, ${c.handshakeTimeouts} handshake timeouts, ${c.http503} × 503`);
        lastLog = performance.now();
      }
      if (performance.now() - started > timeoutS * 1000) return { allAt: NaN, agentsAt, count, maxOnline };
      await sleep(500);
    }
  };
  const connected = await waitAll('connecting', CONNECT_TIMEOUT);
  const connectMs = connected.agentsAt - connectStart;
  const connectDbMs = connected.allAt - connectStart;
  const afterConnect = sim.counters();
  const connectEnd = performance.now();
  const cpuConnect = samplers.map((s) => mean(s.cpu));
  log(`connect: ${Number.isFinite(connectMs) ? `all ${N} greeted in ${(connectMs / 1000).toFixed(1)} s` : `not all within ${CONNECT_TIMEOUT} s`}; all online in the database: ${secs(connectDbMs)}`);

  // ---------------------------------------------------------------- steady state
  // Wrongly offline: online = false in the database for a host whose agent had been greeted
  // before the query started and is still connected after it.
  const wronglyOffline = new Set<string>();
  let worstAtOnce = 0;
  const checkOffline = async () => {
    const before = Date.now() - 1_000;
    const offline = await queries.offlineIds(fleet.orgId);
    const wrong = await sim.connectedSince(offline, before);
    for (const id of wrong) wronglyOffline.add(id);
    worstAtOnce = Math.max(worstAtOnce, wrong.length);
  };
  for (const s of samplers) s.reset();
  const steadyFrom = performance.now();
  const steadyStart = await pg.read();
  const steadyQueries = queries.count;
  const steadyCounters = sim.counters();
  const steadyEnd = performance.now() + DURATION * 1000;
  while (performance.now() < steadyEnd) {
    await checkOffline();
    await sleep(Math.min(5_000, Math.max(0, steadyEnd - performance.now())));
  }
  const steadyStop = await pg.read();
  const steadySeconds = (steadyStop.at - steadyStart.at) / 1000;
  const steadyTx = (steadyStop.xact - steadyStart.xact - (queries.count - steadyQueries)) / steadySeconds;
  const steadyUpdates = (steadyStop.updated - steadyStart.updated) / steadySeconds;
  const steadyInserts = (steadyStop.inserted - steadyStart.inserted) / steadySeconds;
  const afterSteady = sim.counters();
  const rss = samplers.map((s) => ({ mean: mean(s.rss), max: max(s.rss) }));
  const cpu = samplers.map((s) => ({ mean: mean(s.cpu), max: max(s.cpu) }));
  const heartbeatsPerSecond = (afterSteady.heartbeats - steadyCounters.heartbeats) / steadySeconds;
  const steadyDrops = afterSteady.drops - steadyCounters.drops;
  const steadyWrong = wronglyOffline.size;
  const heldAtEnd = sim.connected();
  const steadyWorst = worstAtOnce;
  log(`steady state: ${fmt(heartbeatsPerSecond)} heartbeats/s, ${fmt(steadyTx, 1)} tx/s, ${steadyWrong} hosts wrongly offline`);

  // ---------------------------------------------------------------- reconnect storm
  const killAt = Date.now();
  sim.mark(killAt);
  const beforeStorm = sim.counters();
  const killedAt = performance.now();
  for (const s of servers) s.kill9();
  await Promise.all(servers.map((s) => s.exited()));
  log(`killed ${SERVERS} server(s) with SIGKILL; restarting`);
  await Promise.all(servers.map((s) => s.start()));
  const answeredAt = performance.now();
  for (const s of samplers) s.reset();
  const restartMs = answeredAt - killedAt;
  log(`servers answer again after ${(restartMs / 1000).toFixed(1)} s (pids ${servers.map((s) => s.pid).join(', ')})`);
  await sleep(500);
  const storm = await waitAll('reconnect storm', STORM_TIMEOUT, killAt);
  const stormMs = storm.agentsAt - killedAt;
  const sinceAnswerMs = storm.agentsAt - answeredAt;
  const stormDbMs = storm.allAt - answeredAt;
  const afterStorm = sim.counters();
  const stormEnd = performance.now();
  const cpuStorm = samplers.map((s) => mean(s.cpu));
  log(`reconnect storm: ${Number.isFinite(stormMs) ? `all ${N} greeted again ${(stormMs / 1000).toFixed(1)} s after the kill` : `not all back within ${STORM_TIMEOUT} s`}`);
  wronglyOffline.clear();
  worstAtOnce = 0;
  const afterEnd = performance.now() + AFTER_STORM * 1000;
  while (performance.now() < afterEnd) {
    await checkOffline();
    await sleep(Math.min(5_000, Math.max(0, afterEnd - performance.now())));
  }
  const stormWrong = wronglyOffline.size;

  // ---------------------------------------------------------------- table
  const perServer = N / SERVERS;
  const atScale = perServer >= 19_000;
  const d = (key: keyof typeof afterStorm, from: typeof afterStorm, to: typeof afterStorm) => to[key] - from[key];
  const rows: Row[] = [
    {
      what: `agents held (${SERVERS} server process${SERVERS > 1 ? 'es' : ''})`,
      measured: `${fmt(heldAtEnd)} of ${fmt(N)} connected at the end of the steady state${connected.count === null ? '' : ` (servers count ${fmt(connected.count)})`}; ${steadyDrops} drops in it`,
      goal: '19,000 on one process, 40,000 on two',
      met: heldAtEnd === N && steadyDrops === 0 ? (SERVERS === 1 ? N >= 19_000 : N >= 40_000) || null : false,
    },
    {
      what: 'time for all to connect (first start)',
      measured: `${Number.isFinite(connectMs) ? `all greeted in ${secs(connectMs)} (${fmt(N / (connectMs / 1000))}/s)` : `not all greeted in ${CONNECT_TIMEOUT} s`}, ${Number.isFinite(connectDbMs) ? `all online in the database in ${secs(connectDbMs)}` : `at most ${fmt(connected.maxOnline)} online in the database`}; ${fmt(afterConnect.attempts)} attempts, ${fmt(afterConnect.handshakeTimeouts)} handshake timeouts, ${fmt(afterConnect.http503)} × 503`,
      goal: '— (was 328 s for 19,500)',
    },
    ...servers.map((s, i) => ({
      what: `server ${i + 1} RSS, steady state`,
      measured: `${fmt(rss[i]?.mean ?? NaN)} MB mean, ${fmt(rss[i]?.max ?? NaN)} max`,
      goal: `< 1,024 MB at 19,000${atScale ? '' : ` (here ${fmt(perServer)} per process)`}`,
      met: atScale ? (rss[i]?.max ?? Infinity) < 1024 : null,
    })),
    ...servers.map((s, i) => ({
      what: `server ${i + 1} CPU, steady state`,
      measured: `${fmt(cpu[i]?.mean ?? NaN, 1)} % of a core mean, ${fmt(cpu[i]?.max ?? NaN)} % peak (1 s samples)`,
      goal: `< 15 % at 19,000${atScale ? '' : ` (here ${fmt(perServer)} per process)`}`,
      met: atScale ? (cpu[i]?.mean ?? Infinity) < 15 : null,
    })),
    {
      what: 'PostgreSQL transactions/s',
      measured: `${fmt(steadyTx, 1)} with agents, ${fmt(idleTx, 1)} idle: ${fmt(steadyTx - idleTx, 1)} for ${fmt(heartbeatsPerSecond)} heartbeats/s`,
      goal: 'heartbeats ≤ 2 tx/s',
      met: steadyTx - idleTx <= 2,
    },
    {
      what: 'rows written/s',
      measured: `${fmt(steadyUpdates, 1)} updated, ${fmt(steadyInserts, 1)} inserted (idle: ${fmt(idleUpdates, 1)}, ${fmt(idleInserts, 1)})`,
      goal: 'only when something changed',
    },
    { what: 'hosts wrongly offline, steady state', measured: `${steadyWrong} (at most ${steadyWorst} at once)`, goal: '0', met: steadyWrong === 0 },
    {
      what: `reconnect storm: kill -9 of ${SERVERS > 1 ? 'both servers' : 'the server'}, restart`,
      measured: `${
        Number.isFinite(stormMs)
          ? `all greeted again ${secs(sinceAnswerMs)} after the restarted server${SERVERS > 1 ? 's' : ''} answered (${secs(stormMs)} after the kill; the restart took ${secs(restartMs)})`
          : `not all back within ${STORM_TIMEOUT} s`
      }; ${Number.isFinite(stormDbMs) ? `all online in the database ${secs(stormDbMs)} after the restart` : `at most ${fmt(storm.maxOnline)} online in the database`}`,
      goal: 'all 19,000 back within 60 s after a restart',
      met: Number.isFinite(stormDbMs) && sinceAnswerMs <= 60_000,
    },
    {
      what: 'storm: attempts, handshake timeouts, 503s',
      measured: `${fmt(d('attempts', beforeStorm, afterStorm))} attempts, ${fmt(d('handshakeTimeouts', beforeStorm, afterStorm))} timeouts, ${fmt(d('http503', beforeStorm, afterStorm))} × 503, ${fmt(d('refused', beforeStorm, afterStorm))} refused while down, ${fmt(d('httpOther', beforeStorm, afterStorm))} other HTTP errors`,
      goal: '— (was 62,655 attempts, 23,432 timeouts for 19,500)',
    },
    { what: `hosts wrongly offline, ${AFTER_STORM} s after the storm`, measured: String(stormWrong), goal: '0', met: stormWrong === 0 },
    {
      what: 'server CPU while agents connect',
      measured: `first start ${cpuConnect.map((c) => `${fmt(c)} %`).join(', ')}; storm ${cpuStorm.map((c) => `${fmt(c)} %`).join(', ')} of a core (mean)`,
      goal: '—',
    },
    {
      what: `simulator (${sim.processes} processes, nice ${SIM_NICE}): event-loop delay`,
      measured: [
        ['first start', connectStart, connectEnd],
        ['steady', steadyFrom, steadyFrom + DURATION * 1000],
        ['storm', killedAt, stormEnd],
      ]
        .map(([label, from, to]) => {
          const lag = sim.lag(from as number, to as number);
          return `${label} p99 ${fmt(lag.p99)} ms, max ${fmt(lag.max)} ms`;
        })
        .join('; '),
      goal: 'small next to 15 s handshakes (else the figures are partly the simulator\'s)',
    },
  ];
  printTable(`bench:agents — ${fmt(N)} agents, ${SERVERS} server process(es), ${DURATION} s steady state; ${new Date().toISOString().slice(0, 16)}Z; ${machine()}`, rows);
  const total = sim.counters();
  console.log(`sim totals: ${JSON.stringify(total)}`);
  console.log(`seeding ${fmt(N)} hosts with credentials: ${(seedMs / 1000).toFixed(2)} s`);
  if (worker.proc?.exitCode !== null) console.log(`note: the worker exited (${worker.proc?.exitCode}) during the bench: no presence sweep ran`);
  printProblems([...servers, worker]);
});
