'use client';

// Follows a Server-Sent Events stream while the component is mounted: every message is parsed
// with the stream's schema (lib/api/streams.ts) and malformed ones are dropped with a warning.
// EventSource reconnects by itself after a dropped connection; `closeOnError` stops that for
// streams the server ends on purpose (a finished build, a final deployment).
import { useEffect, useEffectEvent } from 'react';
import { openEventStream, type EventStreamSchema, type StreamEvent } from '@/lib/api/event-stream';

export type EventStreamOptions = {
  /** Asked after each error: true closes the stream for good instead of reconnecting. */
  closeOnError?: () => boolean;
};

/** `url` null: follow nothing (e.g. the thing is final already). */
export function useEventStream<S extends EventStreamSchema>(url: string | null, schema: S, onEvent: (event: StreamEvent<S>) => void, options: EventStreamOptions = {}) {
  const deliver = useEffectEvent(onEvent);
  const closeOnError = useEffectEvent(() => options.closeOnError?.() ?? false);
  useEffect(() => {
    if (!url) return;
    return openEventStream(url, schema, { onEvent: (event) => deliver(event), closeOnError: () => closeOnError() });
  }, [url, schema]);
}
