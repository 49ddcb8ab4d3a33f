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

  wait(targetId: string, remind: () => void, remindEveryMs = 15_000): Promise<Record<string, string>> {
    const known = this.decided.get(targetId);
    if (known) return Promise.resolve(known);
    return new Promise((resolve) => {
      const timer = setInterval(remind, remindEveryMs);
      timer.unref();
      this.waiting.set(targetId, (choices) => {
        clearInterval(timer);
        this.waiting.delete(targetId);
        resolve(choices);
      });
    });
  }
}
