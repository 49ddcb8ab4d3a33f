import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { eventStream, openEventStream, parseStreamMessage, streamEventNames, type EventSourceLike, type StreamInput } from './event-stream';
import { typedEventStream } from './sse';
import { ZBuildStream, ZHostStream } from './streams';

const ZTicks = eventStream(
  z.object({ event: z.literal('tick'), data: z.object({ n: z.number().int() }) }),
  z.object({ event: z.literal('note'), data: z.object({ text: z.string() }) }),
);

/** An EventSource stand-in the test drives: `emit` is what the browser would dispatch. */
class FakeSource implements EventSourceLike {
  readyState = 1;
  closed = false;
  listeners = new Map<string, ((e: Event) => void)[]>();
  addEventListener(type: string, listener: (e: Event) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  close() {
    this.closed = true;
    this.readyState = 2;
  }
  emit(type: string, data?: string) {
    const e = data === undefined ? new Event(type) : new MessageEvent(type, { data });
    for (const listener of this.listeners.get(type) ?? []) listener(e);
  }
}

function follow(options: { closeOnError?: () => boolean } = {}) {
  const source = new FakeSource();
  const events: unknown[] = [];
  const malformed: string[] = [];
  const errors: boolean[] = [];
  const close = openEventStream('/stream', ZTicks, {
    ...options,
    onEvent: (e) => events.push(e),
    onMalformed: (name, data) => malformed.push(`${name}:${data}`),
    onError: (closed) => errors.push(closed),
    connect: () => source,
  });
  return { source, events, malformed, errors, close };
}

describe('parseStreamMessage', () => {
  it('gives a valid message, typed by its event name', () => {
    expect(parseStreamMessage(ZTicks, 'tick', '{"n":3}')).toEqual({ event: 'tick', data: { n: 3 } });
    expect(parseStreamMessage(ZTicks, 'error', '{"message":"stream failed"}')).toEqual({ event: 'error', data: { message: 'stream failed' } });
  });

  it('refuses what is not JSON, what has the wrong shape, and events the stream does not have', () => {
    expect(parseStreamMessage(ZTicks, 'tick', '{"n":')).toBeNull();
    expect(parseStreamMessage(ZTicks, 'tick', '{"n":"3"}')).toBeNull();
    expect(parseStreamMessage(ZTicks, 'tick', '{"text":"hi"}')).toBeNull();
    expect(parseStreamMessage(ZTicks, 'tock', '{"n":3}')).toBeNull();
  });

  it('listens for every event of the union, and the failure every stream has', () => {
    expect(streamEventNames(ZTicks).sort()).toEqual(['error', 'note', 'tick']);
    expect(streamEventNames(ZBuildStream).sort()).toEqual(['error', 'log', 'status']);
  });
});

describe('openEventStream', () => {
  it('delivers valid messages and drops malformed ones', () => {
    const s = follow();
    s.source.emit('tick', '{"n":1}');
    s.source.emit('tick', 'not json');
    s.source.emit('note', '{"n":2}');
    s.source.emit('note', '{"text":"hello"}');
    expect(s.events).toEqual([
      { event: 'tick', data: { n: 1 } },
      { event: 'note', data: { text: 'hello' } },
    ]);
    expect(s.malformed).toEqual(['tick:not json', 'note:{"n":2}']);
  });

  it("tells the server's failure message from a dropped connection", () => {
    const s = follow();
    s.source.emit('error', '{"message":"boom"}');
    expect(s.events).toEqual([{ event: 'error', data: { message: 'boom' } }]);
    expect(s.errors).toEqual([]);
    s.source.emit('error');
    expect(s.errors).toEqual([false]);
    expect(s.source.closed).toBe(false);
  });

  it('leaves reconnecting to EventSource unless closeOnError says the stream is over', () => {
    let over = false;
    const s = follow({ closeOnError: () => over });
    s.source.emit('error');
    expect(s.source.closed).toBe(false);
    over = true;
    s.source.emit('error');
    expect(s.source.closed).toBe(true);
    expect(s.errors).toEqual([false]);
  });

  it('delivers nothing once closed', () => {
    const s = follow();
    s.close();
    s.source.emit('tick', '{"n":1}');
    expect(s.source.closed).toBe(true);
    expect(s.events).toEqual([]);
  });
});

describe('typed streams', () => {
  it('hold what the server sends to the schema the page parses', () => {
    const snapshot: StreamInput<typeof ZHostStream> = {
      event: 'host',
      data: { online: true, lastSeen: null, currentSystem: null, bootedSystem: null, desiredSystem: null, agentVersion: '1.0', enrolledAt: null, activations: [] },
    };
    expect(parseStreamMessage(ZHostStream, snapshot.event, JSON.stringify(snapshot.data))).toEqual(snapshot);
    const never = () =>
      typedEventStream(
        ZHostStream,
        // @ts-expect-error: a Date is not what the page parses (it would arrive as a string the schema never promised).
        async () => ({ events: [{ event: 'host' as const, data: { ...snapshot.data, lastSeen: new Date() } }], done: true }),
        new AbortController().signal,
      );
    expect(never).toBeTypeOf('function');
  });
});
