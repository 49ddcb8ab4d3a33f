// `npm start` on a port that is taken: a sentence naming the port and PORT, exit 1, and
// nothing left behind (no PostgreSQL started, no worker), within seconds.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { assertPortFree, PortUnavailable } from './port';

const root = path.resolve(import.meta.dirname, '..');
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A listener on an ephemeral port of 127.0.0.1, closed after the test. */
async function takenPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
  return (server.address() as net.AddressInfo).port;
}

describe('a taken port', () => {
  it('is refused by the probe with a sentence, and a free one is not', async () => {
    const port = await takenPort();
    const refused = await assertPortFree(port, '127.0.0.1').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PortUnavailable);
    expect((refused as Error).message).toBe(`Cannot listen on 127.0.0.1:${port}: it is already in use (another Flotilla, or another server?). Stop that one, or set PORT to a free port.`);
    // The probe lets go of a free port: the real server can listen on it right after.
    const free = net.createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    const freePort = (free.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => free.close(() => resolve()));
    await assertPortFree(freePort, '127.0.0.1');
    await assertPortFree(freePort, '127.0.0.1');
  });

  it('stops `npm start` at once with exit 1, a clear message and nothing started', async () => {
    const port = await takenPort();
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'flotilla-port-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    // The embedded PostgreSQL, not a test database: had start.ts gone on, it would have made one in dataDir.
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), HOSTNAME: '127.0.0.1', FLOTILLA_DATA_DIR: dataDir };
    delete env.DATABASE_URL;
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    clearTimeout(timer);
    expect(code, output).toBe(1);
    expect(output).toContain(`Cannot listen on 127.0.0.1:${port}: it is already in use`);
    expect(output).toContain('set PORT to a free port');
    expect(output, 'no stack trace').not.toMatch(/^\s+at /m);
    expect(await readdir(dataDir), 'no PostgreSQL, no secret: nothing was started').toEqual([]);
  }, 60_000);
});
