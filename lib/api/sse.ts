// Server-Sent Events that poll PostgreSQL: any server instance can answer, since
// workers and gateways write what is live (builds, hosts, deployments) to the database.
import type { EventStreamSchema, StreamInput } from './event-stream';

export type SseMessage = { event: string; data: unknown };
export type PollStep<E extends SseMessage = SseMessage> = { events: E[]; done: boolean };

/**
 * A stream whose messages are `schema`'s events (lib/api/streams.ts), which the page parses
 * with the same schema: the compiler holds every message the poll sends to it.
 */
export function typedEventStream<S extends EventStreamSchema>(
  _schema: S,
  poll: () => Promise<PollStep<NoInfer<StreamInput<S>>>>,
  signal: AbortSignal,
  intervalMs?: number,
): ReadableStream<Uint8Array> {
  return pollingEventStream(poll, signal, intervalMs);
}

/** Prefer typedEventStream; this untyped form stays for the streams not yet moved to it. */
export function pollingEventStream(poll: () => Promise<PollStep>, signal: AbortSignal, intervalMs = 1_000): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  return new ReadableStream({
    start(controller) {
      const close = () => {
        clearTimeout(timer);
        if (closed) return;
        closed = true;
        controller.close();
      };
      signal.addEventListener('abort', close);
      const tick = async () => {
        let step: PollStep;
        try {
          step = await poll();
        } catch (error) {
          step = { events: [{ event: 'error', data: { message: error instanceof Error ? error.message : 'stream failed' } }], done: true };
        }
        // The client may have gone away while the poll ran.
        if (closed) return;
        for (const e of step.events) controller.enqueue(encoder.encode(`event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`));
        if (step.done) return close();
        timer = setTimeout(() => void tick(), intervalMs);
      };
      void tick();
    },
    cancel() {
      // The reader cancelled: the stream is closed already; stop polling and never enqueue again.
      closed = true;
      clearTimeout(timer);
    },
  });
}

export const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-store, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' };
