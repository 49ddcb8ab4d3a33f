// The CLI's view of the server: where it is, the token, JSON requests with the
// API's error shape turned into readable errors, and Server-Sent Events.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { parseStreamMessage, type EventStreamSchema, type StreamEvent } from '@/lib/api/event-stream';

const ZConfig = z.object({ server: z.url(), token: z.string().min(10) });
export type CliConfig = z.infer<typeof ZConfig>;

export function configPath() {
  return process.env.FLOTILLA_CONFIG ?? path.join(process.env.XDG_CONFIG_HOME ?? path.join(os.homedir(), '.config'), 'flotilla', 'config.json');
}

export async function saveConfig(config: CliConfig) {
  const file = configPath();
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await fs.writeFile(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  return file;
}

/** FLOTILLA_SERVER and FLOTILLA_TOKEN (CI) win over what `flotilla login` saved. */
export async function loadConfig(): Promise<CliConfig> {
  const saved = await fs
    .readFile(configPath(), 'utf8')
    .then((t) => JSON.parse(t) as Partial<CliConfig>)
    .catch(() => ({}) as Partial<CliConfig>);
  const parsed = ZConfig.safeParse({ server: process.env.FLOTILLA_SERVER ?? saved.server, token: process.env.FLOTILLA_TOKEN ?? saved.token });
  if (!parsed.success) throw new CliError('not logged in: run `flotilla login --server URL --email you@example.com`, or set FLOTILLA_SERVER and FLOTILLA_TOKEN');
  return parsed.data;
}

export class CliError extends Error {}

export async function api<T>(config: CliConfig, method: string, route: string, body?: unknown, auth?: string): Promise<T> {
  const res = await fetch(`${config.server.replace(/\/$/, '')}/api/v1${route}`, {
    method,
    headers: { authorization: auth ?? `Bearer ${config.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).catch((error: Error) => {
    throw new CliError(`cannot reach ${config.server}: ${error.message}`);
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: reported below with the status
  }
  if (!res.ok) {
    const error = (json as { error?: { message?: string; details?: unknown } } | null)?.error;
    const details = error?.details ? `\n${JSON.stringify(error.details, null, 2)}` : '';
    throw new CliError(`${method} ${route}: ${res.status} ${error?.message ?? text.slice(0, 200)}${details}`);
  }
  return json as T;
}

/** Reads a Server-Sent Events stream until the server ends it, calling `on` for each event. */
/** Reads an event stream of the API to its end; each message is parsed with the stream's schema (lib/api/streams.ts), malformed ones skipped. */
export async function followEvents<S extends EventStreamSchema>(config: CliConfig, route: string, schema: S, on: (event: StreamEvent<S>) => void) {
  const res = await fetch(`${config.server.replace(/\/$/, '')}/api/v1${route}`, { headers: { authorization: `Bearer ${config.token}`, accept: 'text/event-stream' } });
  if (!res.ok || !res.body) throw new CliError(`GET ${route}: ${res.status}`);
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (!data) continue;
      const parsed = parseStreamMessage(schema, event, data);
      if (parsed) on(parsed);
      else process.stderr.write(`(ignored a malformed "${event}" message)\n`);
    }
  }
}
