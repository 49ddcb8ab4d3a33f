// The typed side of Server-Sent Events, shared by the server that sends a stream and the
// browser (or CLI) that reads it: each stream is one zod union of `{event, data}` messages,
// discriminated by the SSE event name. Browser-safe: zod only.
import { z } from 'zod';

/** What lib/api/sse.ts sends when a poll failed, just before it ends the stream. Part of every stream. */
export const ZStreamFailure = z.object({ event: z.literal('error'), data: z.object({ message: z.string() }) });

type EventOption = z.ZodObject<{ event: z.ZodLiteral<string>; data: z.ZodType }>;

/** A stream's messages: one `{event: literal, data}` object per SSE event name. */
export type EventStreamSchema = z.ZodDiscriminatedUnion<readonly EventOption[], 'event'>;

/** The union of a stream's events plus the failure every stream may end with. */
export function eventStream<const O extends readonly EventOption[]>(...options: O) {
  return z.discriminatedUnion('event', [ZStreamFailure, ...options]);
}

/** What a server may send on the stream: the schema's input (before transforms and defaults). */
export type StreamInput<S extends EventStreamSchema> = z.input<S>;
/** What a reader gets from a parsed message. */
export type StreamEvent<S extends EventStreamSchema> = z.output<S>;

/** The SSE event names a stream uses (EventSource dispatches each name separately). */
export function streamEventNames(schema: EventStreamSchema): string[] {
  return schema.options.map((option) => option.shape.event.value);
}

/** One SSE message checked against the stream's schema: the event, or null when it is malformed. */
export function parseStreamMessage<S extends EventStreamSchema>(schema: S, event: string, data: string): StreamEvent<S> | null {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return null;
  }
  const parsed = schema.safeParse({ event, data: json });
  return parsed.success ? parsed.data : null;
}

/** The part of the DOM's EventSource this module uses (tests pass their own). */
export type EventSourceLike = {
  readonly readyState: number;
  addEventListener(type: string, listener: (e: Event) => void): void;
  close(): void;
};
export type EventSourceFactory = (url: string) => EventSourceLike;

/** EventSource.CLOSED: the browser gave up and will not reconnect by itself. */
const CLOSED = 2;

export type OpenStreamOptions<S extends EventStreamSchema> = {
  /** Every well-formed message, typed by the schema (including the server's `error` event). */
  onEvent: (event: StreamEvent<S>) => void;
  /**
   * Asked after every error (a dropped connection, or the end of a stream the server closed):
   * true closes the stream for good instead of letting EventSource reconnect, as it does by default.
   */
  closeOnError?: () => boolean;
  /** After an error that was not closed by closeOnError; `closed` when EventSource itself gave up (an HTTP error). */
  onError?: (closed: boolean) => void;
  /** Hears about messages the schema refuses, which are dropped (default: a console warning). */
  onMalformed?: (event: string, data: string) => void;
  connect?: EventSourceFactory;
};

/**
 * Opens `url` as an EventSource and delivers its messages parsed by `schema`. Returns the
 * function that closes it. React components use components/ui/use-event-stream.ts instead.
 */
export function openEventStream<S extends EventStreamSchema>(url: string, schema: S, options: OpenStreamOptions<S>): () => void {
  const source = (options.connect ?? ((u) => new EventSource(u)))(url);
  let open = true;
  const close = () => {
    open = false;
    source.close();
  };
  for (const name of streamEventNames(schema)) {
    source.addEventListener(name, (e) => {
      const data = (e as MessageEvent<unknown>).data;
      // EventSource's own `error` (a dropped connection) carries no data; the server's `error` event does.
      if (typeof data !== 'string' || !open) return;
      const event = parseStreamMessage(schema, name, data);
      if (event) options.onEvent(event);
      else (options.onMalformed ?? warnMalformed)(name, data);
    });
  }
  source.addEventListener('error', (e) => {
    if (typeof (e as MessageEvent<unknown>).data === 'string' || !open) return;
    if (options.closeOnError?.()) return close();
    options.onError?.(source.readyState === CLOSED);
  });
  return close;
}

function warnMalformed(event: string, data: string) {
  console.warn(`Ignored a malformed "${event}" message`, data.slice(0, 200));
}
