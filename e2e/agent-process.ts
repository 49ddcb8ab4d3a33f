// A real agent process for the end-to-end tests (`agent/main.ts` under tsx), its output
// kept for failure messages; `env` adds to the environment (e.g. a cache directory of its own).
import { spawn } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');

/**
 * Nix remembers per cache URL, for an hour, that a path was missing. Every e2e server
 * serves a new cache behind the same URL, so a "missing" remembered from an earlier run
 * would make this run's closure "not valid".
 */
export const AGENT_ENV = { ...process.env, NIX_CONFIG: [process.env.NIX_CONFIG, 'narinfo-cache-negative-ttl = 0'].filter(Boolean).join('\n') };

export function agentProcess(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'agent/main.ts', ...args], { cwd: root, env: { ...AGENT_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  return { child, output: () => output, exited: new Promise<number | null>((resolve) => child.on('exit', resolve)) };
}
