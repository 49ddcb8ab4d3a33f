// Server-Sent Events that poll PostgreSQL: any server instance can answer, since
// workers and gateways write what is live (builds, hosts, deployments) to the database.
export type PollStep = { events: { event: string; data: unknown }[]; done: boolean };

export function pollingEventStream(poll: () => Promise<PollStep>, signal: AbortSignal, intervalMs = 1_000): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let timer: NodeJS.Timeout | undefined;
  return new ReadableStream({
    start(controller) {
      const close = () => {
        clearTimeout(timer);
        try {
          controller.close();
        } catch {
          // already closed: the client went away
        }
      };
      signal.addEventListener('abort', close);
      const tick = async () => {
        try {
          const step = await poll();
          for (const e of step.events) controller.enqueue(encoder.encode(`event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`));
          if (step.done) return close();
        } catch (error) {
          controller.enqueue(encoder.encode(`event: error\ndata: ${JSON.stringify({ message: error instanceof Error ? error.message : 'stream failed' })}\n\n`));
          return close();
        }
        if (!signal.aborted) timer = setTimeout(() => void tick(), intervalMs);
      };
      void tick();
    },
    cancel() {
      clearTimeout(timer);
    },
  });
}

export const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-store, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' };
