// One simulated agent: a host credential and one `ws` client speaking the real protocol
// (lib/agents/protocol.ts) the way agent/connection.ts and agent/coordinator.ts do —
// hello, heartbeats at the welcome's interval, its own pings and silence limit, the
// state inventory after each welcome and result, deploy → progress → confirm → result
// (or the magic rollback when no confirm comes in time), and reconnects with
// agent/backoff.ts. Nothing is activated: the "system" is a string the agent reports.
import WebSocket from 'ws';
import { backoffMs, retryAfterMs } from '@/agent/backoff';
import { AGENT_VERSION, SILENCE_MS } from '@/agent/connection';
import { AGENT_WS_PATH, parseFrame, SUBPROTOCOL, ZServerMessage, type TAgentMessage, type TDeploy, type TResult, type TServerMessage } from '@/lib/agents/protocol';

export type SimHost = { hostId: string; name: string; credential: string; system: string };

export type SimOptions = {
  /** Delay before each of the three progress messages (downloading, activating, confirming). */
  stepDelayMs: number;
  localAddress?: string;
  handshakeTimeoutMs: number;
};

/** Counters one sim process sums over its agents; the parent sums the processes. */
export type Counters = {
  attempts: number;
  opened: number;
  welcomes: number;
  handshakeTimeouts: number;
  refused: number;
  http503: number;
  httpOther: number;
  otherErrors: number;
  /** Connections that closed after a welcome while the agent was not stopping. */
  drops: number;
  heartbeats: number;
  deploys: number;
  repeatedDeploys: number;
  confirms: number;
  lateConfirms: number;
  results: number;
  succeeded: number;
  rolledBack: number;
  cancelled: number;
  protocolErrors: number;
};

export const emptyCounters = (): Counters => ({
  attempts: 0,
  opened: 0,
  welcomes: 0,
  handshakeTimeouts: 0,
  refused: 0,
  http503: 0,
  httpOther: 0,
  otherErrors: 0,
  drops: 0,
  heartbeats: 0,
  deploys: 0,
  repeatedDeploys: 0,
  confirms: 0,
  lateConfirms: 0,
  results: 0,
  succeeded: 0,
  rolledBack: 0,
  cancelled: 0,
  protocolErrors: 0,
});

/** When this agent saw each step of one target (ms since the epoch, this machine's clock). */
export type TargetTiming = {
  targetId: string;
  hostId: string;
  deployAt: number;
  confirmTimeoutMs: number;
  confirmAt: number | null;
  resultAt: number | null;
  outcome: TResult['outcome'] | null;
};

type Step = 'received' | 'downloading' | 'activating' | 'switched' | 'confirming' | 'done';
type Job = { deploy: TDeploy; step: Step; previous: string; cancelled: boolean; rollbackTo: string | null; wake: (() => void) | null };

const NIXOS_VERSION = '25.05.20250601.abcdef0';
const MEM_TOTAL = 16 * 1024 ** 3;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class SimAgent {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private nextWait: number | null = null;
  private heartbeat: NodeJS.Timeout | undefined;
  private liveness: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private lastHeard = 0;
  private stopped = false;
  private greeted = false;
  private readonly bootedAt = Date.now() - Math.floor(Math.random() * 86_400_000);
  private current: string;
  private jobs: Job[] = [];
  private running: Job | null = null;
  private confirmed = new Set<string>();
  /** Outcomes by target: a repeated deploy of a finished target is answered with the same result (the real agent's journal). */
  private finished = new Map<string, TResult>();
  private unreported: TResult[] = [];
  /** When the current connection was greeted; null while not connected. */
  welcomedAt: number | null = null;
  readonly timings = new Map<string, TargetTiming>();

  constructor(
    readonly host: SimHost,
    private url: () => string,
    private opts: SimOptions,
    private counters: Counters,
  ) {
    this.current = host.system;
  }

  start() {
    this.connect();
  }

  connected(): boolean {
    return this.welcomedAt !== null && this.ws?.readyState === WebSocket.OPEN;
  }

  private send(message: TAgentMessage): boolean {
    if (this.ws?.readyState !== WebSocket.OPEN || (!this.greeted && message.type !== 'hello')) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  private connect() {
    if (this.stopped) return;
    this.counters.attempts += 1;
    const ws = new WebSocket(`${this.url()}${AGENT_WS_PATH}`, SUBPROTOCOL, {
      headers: { authorization: `Bearer ${this.host.credential}` },
      handshakeTimeout: this.opts.handshakeTimeoutMs,
      localAddress: this.opts.localAddress,
    });
    this.ws = ws;
    let answered = false;
    const heard = () => (this.lastHeard = Date.now());
    ws.on('ping', heard);
    ws.on('pong', heard);
    ws.on('open', () => {
      this.counters.opened += 1;
      this.watch(ws);
      this.hello();
    });
    ws.on('message', (data) => {
      heard();
      this.onFrame(data.toString());
    });
    ws.on('unexpected-response', (_req, res) => {
      // The real agent: a 503 with Retry-After is the server admitting others first; the backoff does not grow.
      const busy = res.statusCode === 503 ? retryAfterMs(res.headers['retry-after']) : null;
      if (res.statusCode === 503) this.counters.http503 += 1;
      else this.counters.httpOther += 1;
      if (busy !== null) this.nextWait = busy;
      answered = true;
      ws.terminate();
    });
    ws.on('error', (error: NodeJS.ErrnoException) => {
      // After an HTTP refusal, counted above: the error is the terminate's own.
      if (answered) return;
      if (/handshake has timed out/i.test(error.message)) this.counters.handshakeTimeouts += 1;
      else if (error.code === 'ECONNREFUSED') this.counters.refused += 1;
      else this.counters.otherErrors += 1;
    });
    ws.on('close', () => {
      if (this.ws !== ws) return;
      clearInterval(this.heartbeat);
      clearInterval(this.liveness);
      if (this.welcomedAt !== null && !this.stopped) this.counters.drops += 1;
      this.welcomedAt = null;
      this.greeted = false;
      if (this.stopped) return;
      const wait = this.nextWait ?? backoffMs(this.attempt++);
      this.nextWait = null;
      this.retry = setTimeout(() => this.connect(), wait);
    });
  }

  /** agent/connection.ts's liveness: its own pings every third of the silence limit, and silence beyond it ends the socket. */
  private watch(ws: WebSocket) {
    this.lastHeard = Date.now();
    clearInterval(this.liveness);
    this.liveness = setInterval(() => {
      if (this.ws !== ws) return;
      if (Date.now() - this.lastHeard > SILENCE_MS) ws.terminate();
      else if (ws.readyState === WebSocket.OPEN) ws.ping();
    }, Math.floor(SILENCE_MS / 3));
  }

  private phaseOf(step: Step): 'downloading' | 'activating' | 'confirming' {
    if (step === 'received' || step === 'downloading') return 'downloading';
    return step === 'activating' || step === 'switched' ? 'activating' : 'confirming';
  }

  private hello() {
    const pendingResults = this.unreported.slice(0, 20);
    const job = this.running;
    const sent = this.send({
      type: 'hello',
      id: crypto.randomUUID(),
      agentVersion: AGENT_VERSION,
      currentSystem: this.current,
      bootedSystem: this.host.system,
      needsReboot: false,
      nixosVersion: NIXOS_VERSION,
      capabilities: ['switch', 'boot', 'rollback', 'cancel'],
      pendingResults,
      running: job && job.step !== 'done' ? { targetId: job.deploy.targetId, deploymentId: job.deploy.deploymentId, phase: this.phaseOf(job.step) } : null,
    });
    if (sent) this.unreported = this.unreported.slice(pendingResults.length);
  }

  private beat() {
    const sent = this.send({
      type: 'heartbeat',
      id: crypto.randomUUID(),
      uptimeSeconds: Math.floor((Date.now() - this.bootedAt) / 1000),
      load1: Math.round(Math.random() * 200) / 100,
      memUsedBytes: 4 * 1024 ** 3 + Math.floor(Math.random() * 256 * 1024 ** 2),
      memTotalBytes: MEM_TOTAL,
      storeFreeBytes: 40 * 1024 ** 3 - Math.floor(Math.random() * 16) * 1024 ** 2,
      failedUnits: [],
      currentSystem: this.current,
      bootedSystem: this.host.system,
      needsReboot: false,
      nixosVersion: NIXOS_VERSION,
    });
    if (sent) this.counters.heartbeats += 1;
  }

  /** What agent/main.ts reports after each welcome and each result: the state units and snapshots (none here). */
  private reportState() {
    this.send({ type: 'state', id: crypto.randomUUID(), units: [], snapshots: [] });
  }

  private onFrame(data: string) {
    const parsed = parseFrame(ZServerMessage, data);
    if (!parsed.ok) {
      this.counters.protocolErrors += 1;
      this.ws?.close(1008, `protocol error: ${parsed.error}`.slice(0, 120));
      return;
    }
    this.onMessage(parsed.message);
  }

  private onMessage(message: TServerMessage) {
    switch (message.type) {
      case 'welcome': {
        this.attempt = 0;
        this.greeted = true;
        this.welcomedAt = Date.now();
        this.counters.welcomes += 1;
        clearInterval(this.heartbeat);
        this.beat();
        this.heartbeat = setInterval(() => this.beat(), message.heartbeatSeconds * 1000);
        this.reportState();
        // agent/coordinator.ts flush(): a confirmation asked for into the void is asked again; results not yet sent go now.
        const job = this.running;
        if (job?.step === 'confirming') this.progress(job, 'still waiting for the confirmation (reconnected)');
        for (const result of this.unreported.splice(0)) this.report(result);
        return;
      }
      case 'deploy':
        return this.deploy(message);
      case 'confirm': {
        this.counters.confirms += 1;
        this.confirmed.add(message.targetId);
        const timing = this.timings.get(message.targetId);
        if (timing && timing.confirmAt === null) {
          timing.confirmAt = Date.now();
          // Late even if it came after the agent gave up and rolled back.
          if (timing.confirmAt - timing.deployAt > timing.confirmTimeoutMs) this.counters.lateConfirms += 1;
        }
        this.running?.wake?.();
        return;
      }
      case 'cancel': {
        const job = this.jobOf(message.targetId);
        if (!job) return;
        // Honoured until the profile changes (agent/coordinator.ts), refused after.
        if (job.step === 'switched' || job.step === 'confirming' || job.step === 'done') {
          this.progress(job, `cancel refused: the system profile already changed (step ${job.step}); the activation goes on (a rollback undoes it)`);
          return;
        }
        job.cancelled = true;
        job.wake?.();
        return;
      }
      case 'rollback': {
        const job = this.jobOf(message.targetId);
        if (job && job.step !== 'switched' && job.step !== 'confirming' && job.step !== 'done') {
          job.cancelled = true;
          job.wake?.();
          return;
        }
        if (job) {
          if (job.previous !== message.toSystem) return this.progress(job, `rollback refused: this activation replaced ${job.previous}, not ${message.toSystem}`);
          job.rollbackTo = message.toSystem;
          job.wake?.();
          return;
        }
        // A finished target: back to the system it replaced, as its own result.
        const done = this.finished.get(message.targetId);
        if (!done || done.outcome !== 'succeeded') return;
        this.current = message.toSystem;
        this.counters.rolledBack += 1;
        this.report({ ...done, id: crypto.randomUUID(), outcome: 'rolled-back', reason: 'the server asked for a rollback', currentSystem: this.current });
        return;
      }
      // resolve and restore: this agent reports no blocking checks and no state units, so a real agent would have nothing to do either.
      default:
        return;
    }
  }

  private jobOf(targetId: string): Job | undefined {
    if (this.running?.deploy.targetId === targetId) return this.running;
    return this.jobs.find((j) => j.deploy.targetId === targetId);
  }

  private deploy(deploy: TDeploy) {
    this.counters.deploys += 1;
    if (!this.timings.has(deploy.targetId)) {
      this.timings.set(deploy.targetId, { targetId: deploy.targetId, hostId: this.host.hostId, deployAt: Date.now(), confirmTimeoutMs: deploy.confirmTimeoutSeconds * 1000, confirmAt: null, resultAt: null, outcome: null });
    }
    const done = this.finished.get(deploy.targetId);
    if (this.jobOf(deploy.targetId) || done) {
      this.counters.repeatedDeploys += 1;
      // The journal answers a repeat of a finished target with its outcome; a running one is ignored.
      if (done) this.report(done);
      return;
    }
    this.jobs.push({ deploy, step: 'received', previous: this.current, cancelled: false, rollbackTo: null, wake: null });
    if (!this.running) void this.pump();
  }

  private async pump() {
    for (let job = this.jobs.shift(); job; job = this.jobs.shift()) {
      this.running = job;
      const result = await this.activate(job);
      job.step = 'done';
      this.running = null;
      this.finish(job, result);
    }
  }

  private progress(job: Job, message: string) {
    this.send({ type: 'progress', id: crypto.randomUUID(), deploymentId: job.deploy.deploymentId, targetId: job.deploy.targetId, phase: this.phaseOf(job.step), message });
  }

  /** Waits up to `ms`, or until a confirm, cancel or rollback wakes the job. */
  private pause(job: Job, ms: number) {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        job.wake = null;
        resolve();
      }
      job.wake = done;
    });
  }

  private result(job: Job, outcome: TResult['outcome'], reason: string | null): TResult {
    return { type: 'result', id: crypto.randomUUID(), deploymentId: job.deploy.deploymentId, targetId: job.deploy.targetId, outcome, reason, logsTail: reason ?? `switched to ${job.deploy.storePath}`, currentSystem: this.current };
  }

  private async activate(job: Job): Promise<TResult> {
    const { deploy } = job;
    const delay = this.opts.stepDelayMs;
    job.step = 'downloading';
    this.progress(job, `fetching ${deploy.storePath}`);
    await this.pause(job, delay);
    if (job.cancelled) return this.result(job, 'cancelled', 'cancelled by the server before the system changed');
    job.step = 'activating';
    this.progress(job, `setting the system profile and running switch-to-configuration ${deploy.action}`);
    await this.pause(job, delay);
    if (job.cancelled) return this.result(job, 'cancelled', 'cancelled by the server before the system changed');
    job.step = 'switched';
    this.current = deploy.storePath;
    await sleep(delay);
    job.step = 'confirming';
    this.progress(job, `waiting up to ${deploy.confirmTimeoutSeconds} s for the server to confirm`);
    const deadline = Date.now() + deploy.confirmTimeoutSeconds * 1000;
    while (!this.confirmed.has(deploy.targetId) && job.rollbackTo === null && Date.now() < deadline) await this.pause(job, deadline - Date.now());
    if (job.rollbackTo !== null || !this.confirmed.has(deploy.targetId)) {
      this.current = job.previous;
      return this.result(job, 'rolled-back', job.rollbackTo !== null ? 'the server asked for a rollback' : `the server did not confirm within ${deploy.confirmTimeoutSeconds} s (magic rollback)`);
    }
    return this.result(job, 'succeeded', null);
  }

  private finish(job: Job, result: TResult) {
    this.finished.set(job.deploy.targetId, result);
    if (result.outcome === 'succeeded') this.counters.succeeded += 1;
    else if (result.outcome === 'rolled-back') this.counters.rolledBack += 1;
    else if (result.outcome === 'cancelled') this.counters.cancelled += 1;
    const timing = this.timings.get(job.deploy.targetId);
    if (timing) {
      timing.resultAt = Date.now();
      timing.outcome = result.outcome;
    }
    this.report(result);
    this.reportState();
  }

  /** Sent now, or carried in the next hello when no greeted connection is up (the journal's unreported results). */
  private report(result: TResult) {
    if (this.send(result)) this.counters.results += 1;
    else if (!this.unreported.some((r) => r.targetId === result.targetId)) this.unreported.push(result);
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retry);
    clearInterval(this.heartbeat);
    clearInterval(this.liveness);
    this.ws?.terminate();
  }
}
