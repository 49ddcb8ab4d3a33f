// The one owner of what the agent does to its host (STYLE.md: one coordinator loop that
// owns the state). Deploys, restores and rollbacks the server asked for wait in one
// queue and run one at a time, in the order they came; the coordinator knows the
// current activation and its step, so a reconnect reports it as running (never as
// crashed: only a new agent process recovers, see Activator.pendingResults), and it
// decides what `cancel` and `rollback` mean for it.
import type { TAgentMessage, TDeploy, TResult, TRunning } from '@/lib/agents/protocol';
import { profileChanged, type Activator } from './activate';
import type { JournalEntry } from './journal';

type Step = JournalEntry['step'];
type DeployJob = { kind: 'deploy'; deploy: TDeploy; cancel: AbortController; rollback: AbortController };
type Job = DeployJob | { kind: 'restore'; restoreId: string; snapshotId: string } | { kind: 'rollback'; targetId: string; toSystem: string };

/** What the server's target phase is while the activation is at each journal step. */
const PHASE: Record<Step, TRunning['phase']> = {
  received: 'downloading',
  downloading: 'downloading',
  checking: 'activating',
  'needs-decision': 'needs-decision',
  checked: 'activating',
  snapshotting: 'activating',
  snapshotted: 'activating',
  'profile-set': 'activating',
  switched: 'activating',
  confirming: 'confirming',
  done: 'confirming',
};

const ASKED = 'the server asked for a rollback';

export type CoordinatorOptions = {
  activator: Activator;
  /** Sends over the connection when it is up and greeted; false otherwise (results then wait in the journal). */
  send: (message: TAgentMessage) => boolean;
  log: (line: string) => void;
  restore: (restoreId: string, snapshotId: string) => Promise<void>;
  /** The running system or the host's data may have changed: called just before a result goes out. */
  changed: () => void;
};

export class Coordinator {
  private jobs: Job[] = [];
  private current: { job: DeployJob; step: Step } | null = null;
  private busy = false;
  private reporting = new Set<string>();

  constructor(private opts: CoordinatorOptions) {}

  /** The activation running now, for `hello` after a reconnect. */
  running(): TRunning | null {
    const c = this.current;
    return c ? { targetId: c.job.deploy.targetId, deploymentId: c.job.deploy.deploymentId, phase: PHASE[c.step] } : null;
  }

  deploy(deploy: TDeploy) {
    const known = this.current?.job.deploy.targetId === deploy.targetId || this.jobs.some((j) => j.kind === 'deploy' && j.deploy.targetId === deploy.targetId);
    // A server that lost track of a running target must not start it a second time.
    if (known) return this.opts.log(`target ${deploy.targetId} is already running or queued; ignoring the repeated deploy`);
    this.enqueue({ kind: 'deploy', deploy, cancel: new AbortController(), rollback: new AbortController() });
  }

  /** Restores wait their turn behind activations: never two changes to the host at once. */
  restore(restoreId: string, snapshotId: string) {
    this.enqueue({ kind: 'restore', restoreId, snapshotId });
  }

  /** Honoured until the profile changes; refused after, and the activation goes on. */
  cancel(targetId: string) {
    const job = this.deployJob(targetId);
    if (!job) return void this.explainUnknown(targetId, 'cancel');
    if (this.current?.job === job && profileChanged(this.current.step)) {
      const why = `cancel refused: the system profile already changed (step ${this.current.step}); the activation goes on (a rollback undoes it)`;
      this.opts.log(`target ${targetId}: ${why}`);
      this.progress(job.deploy, this.current.step, why);
      return;
    }
    if (job.cancel.signal.aborted) return;
    this.opts.log(`target ${targetId}: cancelling`);
    job.cancel.abort('cancelled by the server before the system changed');
  }

  /**
   * Back to `toSystem`, the system the target replaced: for the running activation once its
   * switch is over (before the profile changed this is a cancel), for a finished one as a
   * job of its own in the queue. Every way goes through the activator's one rollback.
   */
  async rollback(targetId: string, toSystem: string) {
    // An activation at `done` has its outcome: it is rolled back as a finished target.
    const job = this.current?.step === 'done' && this.current.job.deploy.targetId === targetId ? undefined : this.deployJob(targetId);
    if (job && !(this.current?.job === job && profileChanged(this.current.step))) {
      this.opts.log(`target ${targetId}: rollback asked before the system changed; cancelling it instead`);
      if (!job.cancel.signal.aborted) job.cancel.abort(`${ASKED} before the system changed, so it was cancelled`);
      return;
    }
    if (job) {
      const entry = await this.opts.activator.journal.get(targetId);
      if (this.current?.job === job && this.current.step !== 'done') {
        if (entry?.previous !== toSystem) {
          const why = `rollback refused: this activation replaced ${entry?.previous ?? 'nothing'}, not ${toSystem}`;
          this.opts.log(`target ${targetId}: ${why}`);
          this.progress(job.deploy, this.current.step, why);
          return;
        }
        this.opts.log(`target ${targetId}: ${ASKED}; rolling back once the current step is over`);
        job.rollback.abort(ASKED);
        return;
      }
      // It finished while the journal was read: roll back the finished target instead.
    }
    this.enqueue({ kind: 'rollback', targetId, toSystem });
  }

  /** Results the server has not acknowledged, for `hello` (the running target has none yet). */
  async unreported(): Promise<TResult[]> {
    const running = this.current?.job.deploy.targetId;
    return (await this.opts.activator.unreported()).filter((r) => r.targetId !== running);
  }

  async markReported(results: TResult[]) {
    for (const r of results) await this.opts.activator.markReported(r.targetId);
  }

  /**
   * After the server greeted a new connection: results that could not be sent meanwhile go
   * now. An activation that reached `confirming` after `hello` was sent (or while no
   * connection was up) asked for its confirmation into the void: it asks again, or the
   * server, which followed the activation from `hello`'s older phase, would never confirm.
   */
  async flush() {
    const c = this.current;
    if (c?.step === 'confirming') this.progress(c.job.deploy, c.step, 'still waiting for the confirmation (reconnected)');
    for (const result of await this.unreported()) await this.report(result);
  }

  private deployJob(targetId: string): DeployJob | undefined {
    if (this.current?.job.deploy.targetId === targetId) return this.current.job;
    return this.jobs.find((j): j is DeployJob => j.kind === 'deploy' && j.deploy.targetId === targetId);
  }

  private async explainUnknown(targetId: string, what: string) {
    const entry = await this.opts.activator.journal.get(targetId);
    this.opts.log(`${what} for target ${targetId} ignored: ${entry?.outcome ? `it ended ${entry.outcome} already` : 'this agent has no such target'}`);
  }

  private progress(deploy: TDeploy, step: Step, message: string) {
    const phase = PHASE[step];
    this.opts.send({ type: 'progress', id: crypto.randomUUID(), deploymentId: deploy.deploymentId, targetId: deploy.targetId, phase: phase === 'needs-decision' ? 'activating' : phase, message });
  }

  private async report(result: TResult) {
    // A flush at a welcome must not send again what is being sent and marked right now.
    if (this.reporting.has(result.targetId)) return;
    this.reporting.add(result.targetId);
    try {
      if (this.opts.send(result)) await this.opts.activator.markReported(result.targetId);
    } finally {
      this.reporting.delete(result.targetId);
    }
  }

  private enqueue(job: Job) {
    this.jobs.push(job);
    void this.pump();
  }

  private async pump() {
    if (this.busy) return;
    this.busy = true;
    try {
      for (let job = this.jobs.shift(); job; job = this.jobs.shift()) {
        try {
          await this.run(job);
        } catch (error) {
          // One job that failed must not stop the ones after it.
          this.opts.log(`${job.kind} failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    } finally {
      this.busy = false;
    }
  }

  private async run(job: Job) {
    const { activator, log } = this.opts;
    if (job.kind === 'restore') {
      await this.opts.restore(job.restoreId, job.snapshotId);
      this.opts.changed();
      return;
    }
    if (job.kind === 'rollback') {
      log(`target ${job.targetId}: ${ASKED} to ${job.toSystem}`);
      const outcome = await activator.rollBack(job.targetId, job.toSystem, ASKED);
      if (typeof outcome === 'string') return log(`rollback refused: ${outcome}`);
      this.opts.changed();
      await this.report(outcome);
      return;
    }
    const { deploy } = job;
    this.current = { job, step: 'received' };
    log(`deploying ${deploy.storePath} (target ${deploy.targetId})`);
    let result: TResult | null;
    try {
      result = await activator.activate(deploy, {
        cancel: job.cancel.signal,
        rollback: job.rollback.signal,
        step: (step) => {
          if (this.current?.job === job) this.current.step = step;
        },
      });
    } catch (error) {
      // This process knows the activation stopped: finish it now rather than at the next start.
      const reason = error instanceof Error ? error.message : String(error);
      log(`activation of target ${deploy.targetId} failed unexpectedly: ${reason}`);
      result = await activator.abandon(deploy.targetId, reason);
    } finally {
      this.current = null;
    }
    if (!result) return;
    log(`target ${deploy.targetId}: ${result.outcome}${result.reason ? ` (${result.reason.split('\n')[0]})` : ''}`);
    this.opts.changed();
    await this.report(result);
  }
}
