// A simulator process: thousands of SimAgents, one `ws` client each, driven by the
// bench over IPC (bench/sim/fleet.ts forks it). It reports its counters twice a second
// and answers the parent's questions (which hosts are connected, the deploy timings).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { emptyCounters, SimAgent, type SimHost, type SimOptions, type TargetTiming } from './agent';

export type ToSim =
  | { type: 'init'; hosts: SimHost[]; urls: string[]; opts: SimOptions; connectBatch: number }
  | { type: 'start' }
  | { type: 'connected-since'; reqId: number; before: number; hostIds: string[] }
  | { type: 'collect'; reqId: number }
  /** From now on, count the agents greeted at or after `at` (e.g. the instant the servers were killed). */
  | { type: 'mark'; at: number }
  | { type: 'stop' };

export type FromSim =
  | { type: 'stats'; counters: ReturnType<typeof emptyCounters>; connected: number; welcomedAfter: Record<string, number>; lag: { p99: number; max: number } }
  | { type: 'connected-since'; reqId: number; hostIds: string[] }
  | { type: 'collect'; reqId: number; timings: TargetTiming[] }
  | { type: 'error'; message: string };

const counters = emptyCounters();
let agents: SimAgent[] = [];
let connectBatch = 50;
/** Instants the parent asks about ("how many have been greeted since the kill?"), in ms since the epoch. */
const marks = new Set<number>();

const reply = (message: FromSim) => process.send?.(message);
// How late this process's event loop runs: the figures are the server's only if the simulator kept up.
const delay = monitorEventLoopDelay({ resolution: 20 });
delay.enable();

function report() {
  let connected = 0;
  const welcomedAfter: Record<string, number> = {};
  for (const mark of marks) welcomedAfter[mark] = 0;
  for (const a of agents) {
    if (!a.connected()) continue;
    connected += 1;
    for (const mark of marks) if ((a.welcomedAt ?? 0) >= mark) welcomedAfter[mark] = (welcomedAfter[mark] ?? 0) + 1;
  }
  // Over the last half second only: the bench attributes it to the phase it falls in.
  reply({ type: 'stats', counters, connected, welcomedAfter, lag: { p99: delay.percentile(99) / 1e6, max: delay.max / 1e6 } });
  delay.reset();
}

/** Opens connections a batch per turn of the event loop: thousands opened in one synchronous loop would stall the process that must answer them. */
function startAll() {
  let next = 0;
  const step = () => {
    const end = Math.min(agents.length, next + connectBatch);
    for (; next < end; next++) agents[next]?.start();
    if (next < agents.length) setImmediate(step);
  };
  step();
}

process.on('message', (raw) => {
  const message = raw as ToSim;
  switch (message.type) {
    case 'init': {
      connectBatch = message.connectBatch;
      // Agents are spread over the servers like a load balancer would: host i to server i mod n.
      agents = message.hosts.map((h, i) => {
        const url = message.urls[i % message.urls.length] as string;
        return new SimAgent(h, () => url, message.opts, counters);
      });
      setInterval(report, 500).unref();
      return;
    }
    case 'start':
      return startAll();
    case 'connected-since': {
      const wanted = new Set(message.hostIds);
      const hostIds = agents.filter((a) => wanted.has(a.host.hostId) && a.connected() && (a.welcomedAt ?? Infinity) <= message.before).map((a) => a.host.hostId);
      return reply({ type: 'connected-since', reqId: message.reqId, hostIds });
    }
    case 'collect':
      return reply({ type: 'collect', reqId: message.reqId, timings: agents.flatMap((a) => [...a.timings.values()]) });
    case 'stop':
      for (const a of agents) a.stop();
      report();
      setTimeout(() => process.exit(0), 200);
      return;
    case 'mark':
      marks.add(message.at);
      report();
      return;
  }
});

// The parent is gone (a Ctrl-C, a crash): nothing here may outlive it.
process.on('disconnect', () => process.exit(0));
process.on('uncaughtException', (error) => {
  reply({ type: 'error', message: error.stack ?? String(error) });
  process.exit(1);
});
