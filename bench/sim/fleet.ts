// The bench's side of the simulator: forks sim processes (bench/sim/process.ts), gives
// each a share of the hosts and a source address of its own, sums their counters and
// asks them questions. One process holds at most `perProcess` sockets: this machine
// allows 20,000 open files per process.
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { emptyCounters, type Counters, type SimHost, type SimOptions, type TargetTiming } from './agent';
import type { FromSim, ToSim } from './process';

const here = path.dirname(fileURLToPath(import.meta.url));

type Lag = { at: number; p99: number; max: number };
type Child = { proc: ChildProcess; counters: Counters; connected: number; welcomedAfter: Record<string, number>; lags: Lag[]; exited: boolean };

export class SimFleet {
  private children: Child[] = [];
  private reqId = 0;
  private waiting = new Map<number, (message: FromSim) => void>();

  /**
   * @param urls the servers' base URLs (ws://127.0.0.1:port); agents are spread over them.
   */
  constructor(
    private hosts: SimHost[],
    private urls: string[],
    private opts: { perProcess?: number; stepDelayMs?: number; connectBatch?: number; nice?: number; log?: (line: string) => void } = {},
  ) {}

  async start() {
    const perProcess = this.opts.perProcess ?? 8_000;
    const count = Math.max(1, Math.ceil(this.hosts.length / perProcess));
    const size = Math.ceil(this.hosts.length / count);
    for (let i = 0; i < count; i++) {
      const share = this.hosts.slice(i * size, (i + 1) * size);
      // Its own source address: each (source, server) pair has ~28,000 ephemeral ports, which a storm of retries can use up.
      const opts: SimOptions = { stepDelayMs: this.opts.stepDelayMs ?? 50, localAddress: `127.0.0.${2 + i}`, handshakeTimeoutMs: 15_000 };
      const proc = fork(path.join(here, 'process.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
      // Below the server and PostgreSQL in the scheduler: on a real fleet the agents' CPU is not the server's.
      if (proc.pid) os.setPriority(proc.pid, this.opts.nice ?? 10);
      const child: Child = { proc, counters: emptyCounters(), connected: 0, welcomedAfter: {}, lags: [], exited: false };
      proc.on('message', (raw) => this.onMessage(child, raw as FromSim));
      proc.on('exit', (code) => {
        child.exited = true;
        if (code) this.opts.log?.(`sim process ${proc.pid} exited with ${code}`);
      });
      this.children.push(child);
      this.send(child, { type: 'init', hosts: share, urls: this.urls, opts, connectBatch: this.opts.connectBatch ?? 50 });
    }
    for (const c of this.children) this.send(c, { type: 'start' });
  }

  private send(child: Child, message: ToSim) {
    if (!child.exited && child.proc.connected) child.proc.send(message);
  }

  private onMessage(child: Child, message: FromSim) {
    if (message.type === 'stats') {
      child.counters = message.counters;
      child.connected = message.connected;
      child.welcomedAfter = message.welcomedAfter;
      child.lags.push({ at: performance.now(), ...message.lag });
    } else if (message.type === 'error') this.opts.log?.(`sim process ${child.proc.pid} failed: ${message.message}`);
    else this.waiting.get(message.reqId)?.(message);
  }

  get processes() {
    return this.children.length;
  }

  private ask<T extends FromSim>(child: Child, build: (reqId: number) => ToSim): Promise<T> {
    const reqId = ++this.reqId;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(reqId);
        reject(new Error(`sim process ${child.proc.pid} did not answer`));
      }, 30_000);
      this.waiting.set(reqId, (message) => {
        clearTimeout(timer);
        this.waiting.delete(reqId);
        resolve(message as T);
      });
      this.send(child, build(reqId));
    });
  }

  /** The counters summed over every sim process (as of their last report, at most 0.5 s old). */
  counters(): Counters {
    const total = emptyCounters();
    for (const c of this.children) for (const key of Object.keys(total) as (keyof Counters)[]) total[key] += c.counters[key];
    return total;
  }

  /**
   * The sim processes' event-loop delay (ms) reported between two instants (performance.now()):
   * the mean of the half-second p99s and the worst single delay.
   */
  lag(from = 0, to = Infinity): { p99: number; max: number } {
    const lags = this.children.flatMap((c) => c.lags.filter((l) => l.at >= from && l.at <= to));
    return { p99: lags.reduce((a, l) => a + l.p99, 0) / Math.max(1, lags.length), max: lags.reduce((a, l) => Math.max(a, l.max), 0) };
  }

  /** Agents with an open, greeted connection now. */
  connected(): number {
    return this.children.reduce((n, c) => n + c.connected, 0);
  }

  /** From now on the processes count agents greeted at or after `at`. */
  mark(at: number) {
    for (const c of this.children) this.send(c, { type: 'mark', at });
  }

  /** Agents connected now whose connection was greeted at or after a mark (undefined until every process has reported it). */
  welcomedAfter(at: number): number | undefined {
    let n = 0;
    for (const c of this.children) {
      const v = c.welcomedAfter[at];
      if (v === undefined) return undefined;
      n += v;
    }
    return n;
  }

  /** Of `hostIds`, those connected (greeted and open) continuously since at least `before`. */
  async connectedSince(hostIds: string[], before: number): Promise<string[]> {
    if (hostIds.length === 0) return [];
    const answers = await Promise.all(this.children.map((c) => this.ask<Extract<FromSim, { type: 'connected-since' }>>(c, (reqId) => ({ type: 'connected-since', reqId, before, hostIds }))));
    return answers.flatMap((a) => a.hostIds);
  }

  async timings(): Promise<TargetTiming[]> {
    const answers = await Promise.all(this.children.map((c) => this.ask<Extract<FromSim, { type: 'collect' }>>(c, (reqId) => ({ type: 'collect', reqId }))));
    return answers.flatMap((a) => a.timings);
  }

  async stop() {
    await Promise.all(
      this.children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exited) return resolve();
            c.proc.once('exit', () => resolve());
            this.send(c, { type: 'stop' });
            setTimeout(() => {
              c.proc.kill('SIGKILL');
              resolve();
            }, 5_000).unref();
          }),
      ),
    );
  }

  /** Synchronous, for an exit handler: whatever is still running is killed. */
  kill() {
    for (const c of this.children) if (!c.exited) c.proc.kill('SIGKILL');
  }
}
