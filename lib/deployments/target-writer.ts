// What agents report about their targets (progress, results), gathered for a few
// milliseconds and written in a few statements per batch (recordProgressBatch,
// recordResults): a deployment to thousands of hosts brings four messages per host
// within seconds, which a transaction each would queue on the pool ahead of everything
// else. One batch at a time, progress before results, so a target's messages keep their
// order. After results, the hosts that reported get their next released target in one
// claim. Each caller still learns what concerns it: confirm or not; its next deploy.
import type { TDeploy, TResult } from '@/lib/agents/protocol';
import { claimDeploys, recordProgressBatch, recordResults, reportKey } from './delivery';

type Phase = 'downloading' | 'activating' | 'confirming';
type Waiter<T> = { done: (value: T) => void; fail: (error: unknown) => void };
type ProgressItem = { hostId: string; targetId: string; phase: Phase; message: string } & Waiter<boolean>;
type ResultItem = { hostId: string; result: TResult } & Waiter<{ recorded: boolean; next: TDeploy | null }>;

export class TargetWriter {
  private progress: ProgressItem[] = [];
  private results: ResultItem[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private delayMs = 20,
    private maxBatch = 2_000,
  ) {}

  /** Resolves true when the server should answer `confirm`. */
  addProgress(hostId: string, targetId: string, phase: Phase, message: string): Promise<boolean> {
    return new Promise((done, fail) => {
      this.progress.push({ hostId, targetId, phase, message, done, fail });
      this.schedule();
    });
  }

  /** Resolves with whether the result was recorded and the host's next target to send, if any. */
  addResult(hostId: string, result: TResult): Promise<{ recorded: boolean; next: TDeploy | null }> {
    return new Promise((done, fail) => {
      this.results.push({ hostId, result, done, fail });
      this.schedule();
    });
  }

  private schedule() {
    if (this.progress.length + this.results.length >= this.maxBatch) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.delayMs);
  }

  private flush() {
    clearTimeout(this.timer);
    this.timer = undefined;
    const progress = this.progress;
    const results = this.results;
    this.progress = [];
    this.results = [];
    if (progress.length + results.length === 0) return;
    this.writing = this.writing.then(async () => {
      await settle<ProgressItem, boolean>(progress, async () => {
        const confirm = await recordProgressBatch(progress);
        return (p) => confirm.has(reportKey(p.hostId, p.targetId)) && p.phase === 'confirming';
      });
      await settle<ResultItem, { recorded: boolean; next: TDeploy | null }>(results, async () => {
        const recorded = await recordResults(results);
        const next = new Map((await claimDeploys([...new Set(results.map((r) => r.hostId))])).map(({ hostId, ...deploy }) => [hostId, deploy]));
        const sent = new Set<string>();
        return (r) => {
          // A host with two results in one batch gets its next target once.
          const deploy = sent.has(r.hostId) ? null : (next.get(r.hostId) ?? null);
          sent.add(r.hostId);
          return { recorded: recorded.has(reportKey(r.hostId, r.result.targetId)), next: deploy };
        };
      });
    });
  }
}

async function settle<I extends Waiter<T>, T>(items: I[], write: () => Promise<(item: I) => T>) {
  if (items.length === 0) return;
  try {
    const answer = await write();
    for (const item of items) item.done(answer(item));
  } catch (error) {
    for (const item of items) item.fail(error);
  }
}
