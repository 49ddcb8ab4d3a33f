import { describe, expect, it } from 'vitest';
import { pollingEventStream } from './sse';

async function text(stream: ReadableStream<Uint8Array>) {
  const reader = stream.getReader();
  let out = '';
  for (let r = await reader.read(); !r.done; r = await reader.read()) out += new TextDecoder().decode(r.value);
  return out;
}

describe('polling event stream', () => {
  it('sends events until the poll says done', async () => {
    let n = 0;
    const stream = pollingEventStream(async () => ({ events: [{ event: 'tick', data: { n: ++n } }], done: n === 2 }), new AbortController().signal, 5);
    expect(await text(stream)).toBe('event: tick\ndata: {"n":1}\n\nevent: tick\ndata: {"n":2}\n\n');
  });

  it('a client that goes away while a poll runs ends the stream without writing into it', async () => {
    const abort = new AbortController();
    let release!: () => void;
    let started!: () => void;
    const polling = new Promise<void>((r) => (started = r));
    const stream = pollingEventStream(
      () =>
        new Promise((resolve) => {
          release = () => resolve({ events: [{ event: 'late', data: {} }], done: false });
          started();
        }),
      abort.signal,
      5,
    );
    const reading = text(stream);
    await polling;
    abort.abort();
    release();
    expect(await reading).toBe('');
  });

  it('a failing poll becomes an error event and the end of the stream', async () => {
    const stream = pollingEventStream(async () => Promise.reject(new Error('database gone')), new AbortController().signal, 5);
    expect(await text(stream)).toBe('event: error\ndata: {"message":"database gone"}\n\n');
  });
});
