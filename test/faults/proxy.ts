// A TCP fault proxy on node:net, controlled in-process by the fault suite: it sits
// between agents and servers and between servers (and workers) and PostgreSQL.
//
// What it can do to the traffic it forwards:
// - latency: every chunk waits `latencyMs` (per direction) before it is written on.
// - loss: TCP never loses bytes, it retransmits them, so "5% packet loss" is emulated as a
//   5% chance per chunk of an added retransmission delay (`lossDelayMs`, 200–1000 ms by
//   default). Chunks stay in order, so a delayed chunk holds up those behind it, as
//   head-of-line blocking does on a real lossy link.
// - cut: a blackhole. Nothing is forwarded, connections stay open (half-open as far as
//   either end can tell), new connections are accepted but not connected onwards. What
//   was sent meanwhile is held and delivered on `resume`, as TCP's retransmissions would
//   (the cuts here are shorter than TCP's own give-up time).
// - reset: destroys every connection now (RST), like a crashed peer or a restarted
//   PostgreSQL; `refuse` also resets every new connection until `resume` (or for a while).
// A peer that goes away takes the chunks still queued towards the other side with it:
// what a killed server had "on the wire" in the latency queue never arrives.
import net from 'node:net';

export type Target = { host: string; port: number };
export type LinkFaults = {
  /** Added to every chunk from client to server. */
  upLatencyMs: number;
  /** Added to every chunk from server to client. */
  downLatencyMs: number;
  /** Chance per chunk of a retransmission delay. */
  lossRate: number;
  lossDelayMs: [number, number];
};

const NO_FAULTS: LinkFaults = { upLatencyMs: 0, downLatencyMs: 0, lossRate: 0, lossDelayMs: [200, 1000] };

type Queued = { chunk: Buffer; at: number };
type Direction = 'up' | 'down';
type Pipe = { client: net.Socket; upstream: net.Socket | null; target: Target | null; queue: Record<Direction, Queued[]>; timer: Record<Direction, NodeJS.Timeout | null> };

export class FaultProxy {
  private server: net.Server | null = null;
  private pipes = new Set<Pipe>();
  private faults: LinkFaults = { ...NO_FAULTS };
  private mode: 'open' | 'cut' | 'refuse' = 'open';
  private refuseTimer: NodeJS.Timeout | null = null;
  /** Connections made since the start, and connections reset by `reset`/`refuse`. */
  readonly counts = { accepted: 0, reset: 0, refused: 0 };
  port = 0;

  /** `targets` in order of preference: a new connection goes to the first that accepts it (a load balancer's failover). */
  constructor(private targets: Target[], readonly name = 'proxy') {}

  async start(port = 0): Promise<number> {
    this.server = net.createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as net.AddressInfo).port;
    return this.port;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  setTargets(targets: Target[]) {
    this.targets = targets;
  }

  setFaults(faults: Partial<LinkFaults>) {
    this.faults = { ...this.faults, ...faults };
  }

  clearFaults() {
    this.faults = { ...NO_FAULTS };
  }

  /** Blackhole: hold every connection open and forward nothing until `resume`. */
  cut() {
    this.mode = 'cut';
  }

  /** Destroy every connection now. */
  reset() {
    for (const pipe of [...this.pipes]) {
      this.counts.reset += 1;
      this.close(pipe);
    }
  }

  /** Reset every connection and every new one, for `ms` or until `resume`. */
  refuse(ms?: number) {
    this.mode = 'refuse';
    this.reset();
    if (this.refuseTimer) clearTimeout(this.refuseTimer);
    if (ms !== undefined) this.refuseTimer = setTimeout(() => this.resume(), ms);
  }

  resume() {
    if (this.refuseTimer) clearTimeout(this.refuseTimer);
    this.refuseTimer = null;
    const wasCut = this.mode === 'cut';
    this.mode = 'open';
    if (!wasCut) return;
    for (const pipe of this.pipes) {
      if (!pipe.upstream) this.connect(pipe, 0);
      else this.pump(pipe);
    }
  }

  /** Which target each open connection reached, counted. */
  connectionsByTarget(): Map<number, number> {
    const counts = new Map<number, number>();
    for (const pipe of this.pipes) if (pipe.target) counts.set(pipe.target.port, (counts.get(pipe.target.port) ?? 0) + 1);
    return counts;
  }

  get open() {
    return this.pipes.size;
  }

  async stop() {
    this.reset();
    if (this.refuseTimer) clearTimeout(this.refuseTimer);
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = null;
  }

  private accept(client: net.Socket) {
    this.counts.accepted += 1;
    if (this.mode === 'refuse') {
      this.counts.refused += 1;
      client.resetAndDestroy();
      return;
    }
    client.setNoDelay(true);
    const pipe: Pipe = { client, upstream: null, target: null, queue: { up: [], down: [] }, timer: { up: null, down: null } };
    this.pipes.add(pipe);
    client.on('data', (chunk) => this.forward(pipe, 'up', chunk));
    client.on('error', () => this.close(pipe));
    client.on('close', () => this.close(pipe));
    // A SYN into a blackhole gets no answer: the connection waits for the link to return.
    if (this.mode === 'open') this.connect(pipe, 0);
  }

  private connect(pipe: Pipe, index: number) {
    const target = this.targets[index];
    if (!target) return this.close(pipe);
    const upstream = net.connect(target.port, target.host);
    upstream.setNoDelay(true);
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      pipe.upstream = upstream;
      pipe.target = target;
      this.pump(pipe);
    });
    upstream.on('data', (chunk) => this.forward(pipe, 'down', chunk));
    upstream.on('error', () => {
      // Refused: try the next target, as a load balancer would.
      if (!connected && this.pipes.has(pipe)) this.connect(pipe, index + 1);
      else this.close(pipe);
    });
    upstream.on('close', () => {
      if (connected) this.close(pipe);
    });
  }

  /** Queues a chunk with the time it may leave: its latency, maybe a retransmission delay, never before the one ahead of it. */
  private forward(pipe: Pipe, direction: Direction, chunk: Buffer) {
    const f = this.faults;
    let delay = direction === 'up' ? f.upLatencyMs : f.downLatencyMs;
    if (f.lossRate > 0 && Math.random() < f.lossRate) delay += f.lossDelayMs[0] + Math.random() * (f.lossDelayMs[1] - f.lossDelayMs[0]);
    const queue = pipe.queue[direction];
    const at = Math.max(Date.now() + delay, queue.at(-1)?.at ?? 0);
    queue.push({ chunk, at });
    this.pump(pipe);
  }

  /** Writes, in order, every queued chunk whose time has come; while cut, nothing (it waits for `resume`). */
  private pump(pipe: Pipe) {
    for (const direction of ['up', 'down'] as const) {
      const to = direction === 'up' ? pipe.upstream : pipe.client;
      const queue = pipe.queue[direction];
      if (pipe.timer[direction]) clearTimeout(pipe.timer[direction]);
      pipe.timer[direction] = null;
      if (!to || this.mode !== 'open') continue;
      const now = Date.now();
      while (queue[0] && queue[0].at <= now) {
        const { chunk } = queue.shift() as Queued;
        if (!to.destroyed) to.write(chunk);
      }
      if (queue[0]) pipe.timer[direction] = setTimeout(() => this.pump(pipe), queue[0].at - now);
    }
  }

  private close(pipe: Pipe) {
    if (!this.pipes.delete(pipe)) return;
    for (const timer of Object.values(pipe.timer)) if (timer) clearTimeout(timer);
    if (!pipe.client.destroyed) pipe.client.resetAndDestroy();
    if (pipe.upstream && !pipe.upstream.destroyed) pipe.upstream.resetAndDestroy();
  }
}
