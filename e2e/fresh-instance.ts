// A second Flotilla for the tests that need a first start: `npm start` (through
// e2e/serve.ts, E2E_FRESH=1) on a database of its own with no users, so the setup page
// shows. The suite's own server has an admin from the environment and never shows it.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { E2E_PORT } from './constants';

const root = path.resolve(import.meta.dirname, '..');
export const FRESH_PORT = Number(process.env.E2E_FRESH_PORT ?? E2E_PORT + 2);

export async function startFreshInstance(port = FRESH_PORT) {
  const url = `http://127.0.0.1:${port}`;
  // A process group of its own, signalled as a whole as Playwright does its web server: npm
  // runs the server under `sh -c`, which would not pass a signal on to it.
  const child = spawn(process.execPath, ['--import', 'tsx', 'e2e/serve.ts'], {
    cwd: root,
    env: { ...process.env, E2E_FRESH: '1', E2E_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  /** Whether any process of the group is left (serve.ts, npm, the server, PostgreSQL). */
  const groupAlive = () => {
    try {
      process.kill(-(child.pid as number), 0);
      return true;
    } catch {
      return false;
    }
  };
  const signal = (name: NodeJS.Signals) => {
    if (groupAlive()) process.kill(-(child.pid as number), name);
  };
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  let gone = false;
  void exited.then(() => (gone = true));
  // The suite's server built the web app already; this start only migrates a new database.
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (gone) throw new Error(`the fresh instance exited before it was ready:\n${output}`);
    // A server that holds the port but cannot answer (another one, stuck) must not stall the wait.
    const healthy = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok, () => false);
    if (healthy) break;
    if (Date.now() > deadline) {
      signal('SIGKILL');
      throw new Error(`the fresh instance was not ready in 3 minutes:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return {
    url,
    output: () => output,
    /** Stops the server, drops its database and removes its data directory (serve.ts does). */
    stop: async () => {
      signal('SIGTERM');
      // A clean stop takes seconds; one that hangs must not outlive the test.
      const deadline = Date.now() + 30_000;
      while (groupAlive()) {
        if (Date.now() > deadline) signal('SIGKILL');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      await exited;
    },
  };
}
