// The server's confirmations, which may arrive before or while the agent waits for them.
export class Confirmations {
  private confirmed = new Set<string>();
  private waiting = new Map<string, () => void>();

  confirm(targetId: string) {
    this.confirmed.add(targetId);
    this.waiting.get(targetId)?.();
  }

  /** True once confirmed; false when the time is up or `signal` aborts (a rollback the server asked for). */
  wait(targetId: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.confirmed.has(targetId)) return Promise.resolve(true);
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const end = (confirmed: boolean) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', aborted);
        this.waiting.delete(targetId);
        resolve(confirmed);
      };
      const aborted = () => end(false);
      const timer = setTimeout(() => end(false), timeoutMs);
      signal?.addEventListener('abort', aborted, { once: true });
      this.waiting.set(targetId, () => end(true));
    });
  }
}
