// Reads Nix's `--log-format internal-json` stream (lines starting with `@nix `) into
// progress counters and plain log lines, for live build and copy progress.
import { z } from 'zod';

const ACT_COPY_PATHS = 103;
const ACT_BUILDS = 104;
const ACT_BUILD = 105;
const RES_BUILD_LOG_LINE = 101;
const RES_PHASE = 104;
const RES_PROGRESS = 105;

const ZEvent = z.discriminatedUnion('action', [
  z.object({ action: z.literal('start'), id: z.number(), type: z.number(), text: z.string().default(''), fields: z.array(z.unknown()).optional() }),
  z.object({ action: z.literal('stop'), id: z.number() }),
  z.object({ action: z.literal('result'), id: z.number(), type: z.number(), fields: z.array(z.unknown()).default([]) }),
  z.object({ action: z.literal('msg'), level: z.number(), msg: z.string() }),
]);

export type Counter = { done: number; expected: number; running: number; failed: number };
export type NixProgress = { builds: Counter; copies: Counter; building: string[]; phase?: string };

// eslint-disable-next-line no-control-regex -- terminal escapes are what is stripped
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

export class NixProgressReader {
  readonly progress: NixProgress = { builds: { done: 0, expected: 0, running: 0, failed: 0 }, copies: { done: 0, expected: 0, running: 0, failed: 0 }, building: [] };
  private activities = new Map<number, { type: number; text: string }>();

  /** Feeds one stderr line; returns the human-readable log line it carries, if any. */
  feed(line: string): string | null {
    if (!line.startsWith('@nix ')) return line.trim() ? line.replace(ANSI, '') : null;
    let event: z.infer<typeof ZEvent>;
    try {
      const parsed = ZEvent.safeParse(JSON.parse(line.slice(5)));
      if (!parsed.success) return null;
      event = parsed.data;
    } catch {
      return null;
    }
    switch (event.action) {
      case 'start':
        this.activities.set(event.id, { type: event.type, text: event.text });
        if (event.type === ACT_BUILD) {
          this.progress.building.push(event.text);
          return event.text ? `${event.text}` : null;
        }
        return null;
      case 'stop': {
        const activity = this.activities.get(event.id);
        if (activity?.type === ACT_BUILD) this.progress.building = this.progress.building.filter((t) => t !== activity.text);
        this.activities.delete(event.id);
        return null;
      }
      case 'result': {
        const activity = this.activities.get(event.id);
        if (event.type === RES_BUILD_LOG_LINE) return String(event.fields[0] ?? '').replace(ANSI, '');
        if (event.type === RES_PHASE) {
          this.progress.phase = String(event.fields[0] ?? '');
          return null;
        }
        if (event.type === RES_PROGRESS && activity) {
          const [done = 0, expected = 0, running = 0, failed = 0] = event.fields.map(Number);
          const counter = { done, expected, running, failed };
          if (activity.type === ACT_BUILDS) this.progress.builds = counter;
          if (activity.type === ACT_COPY_PATHS) this.progress.copies = counter;
        }
        return null;
      }
      case 'msg':
        return event.level <= 3 ? event.msg.replace(ANSI, '') : null;
    }
  }
}
