// Decisions on blocked pre-switch checks: the server sends the chosen resolutions,
// before or while the agent waits for them. While it waits, the agent repeats its check
// report now and then, so a server it reconnected to learns it is waiting (and answers
// with a decision made meanwhile).
export class Decisions {
  private decided = new Map<string, Record<string, string>>();
  private waiting = new Map<string, (choices: Record<string, string>) => void>();

  decide(targetId: string, choices: Record<string, string>) {
    this.decided.set(targetId, choices);
    this.waiting.get(targetId)?.(choices);
  }

  /** Rejects when `signal` aborts (the target was cancelled): the reminders stop with it. */
  wait(targetId: string, remind: () => void, signal?: AbortSignal, remindEveryMs = 15_000): Promise<Record<string, string>> {
    const known = this.decided.get(targetId);
    if (known) return Promise.resolve(known);
    if (signal?.aborted) return Promise.reject(new Error(String(signal.reason)));
    return new Promise((resolve, reject) => {
      const timer = setInterval(remind, remindEveryMs);
      timer.unref();
      const end = () => {
        clearInterval(timer);
        signal?.removeEventListener('abort', aborted);
        this.waiting.delete(targetId);
      };
      const aborted = () => {
        end();
        reject(new Error(String(signal?.reason)));
      };
      signal?.addEventListener('abort', aborted, { once: true });
      this.waiting.set(targetId, (choices) => {
        end();
        resolve(choices);
      });
    });
  }
}
