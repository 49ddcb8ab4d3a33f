// The server's confirmations, which may arrive before or while the agent waits for them.
export class Confirmations {
  private confirmed = new Set<string>();
  private waiting = new Map<string, () => void>();

  confirm(targetId: string) {
    this.confirmed.add(targetId);
    this.waiting.get(targetId)?.();
  }

  wait(targetId: string, timeoutMs: number): Promise<boolean> {
    if (this.confirmed.has(targetId)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(targetId);
        resolve(false);
      }, timeoutMs);
      this.waiting.set(targetId, () => {
        clearTimeout(timer);
        this.waiting.delete(targetId);
        resolve(true);
      });
    });
  }
}
