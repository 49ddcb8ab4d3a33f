// Runs the real Nix CLI. Every Nix call in Flotilla goes through here so that the
// configuration it runs with is decided in one place.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

function groupExists(name: string): boolean {
  try {
    return readFileSync('/etc/group', 'utf8')
      .split('\n')
      .some((line) => line.startsWith(`${name}:`));
  } catch {
    return false;
  }
}

/**
 * NIX_CONFIG for our calls: flakes on; on machines without the nixbld group (Debian's
 * nix-bin without a daemon) builds run as the calling user; busybox provides /bin/sh
 * inside the sandbox where it is installed. FLOTILLA_NIX_CONFIG adds lines (tests set
 * `substituters =` so nothing waits on the public cache).
 */
export function nixConfig(): string {
  const lines = ['experimental-features = nix-command flakes'];
  if (!groupExists('nixbld')) lines.push('build-users-group =');
  if (existsSync('/bin/busybox')) lines.push('extra-sandbox-paths = /bin/sh=/bin/busybox');
  if (process.env.NIX_CONFIG) lines.push(process.env.NIX_CONFIG);
  if (process.env.FLOTILLA_NIX_CONFIG) lines.push(process.env.FLOTILLA_NIX_CONFIG.replace(/\\n/g, '\n'));
  return lines.join('\n');
}

export type NixResult = { code: number; stdout: string; stderr: string; timedOut: boolean };

export type NixOptions = {
  input?: string;
  timeoutMs?: number;
  cwd?: string;
  env?: Record<string, string>;
  /** Called for each complete stderr line as it arrives (progress, logs). */
  onStderrLine?: (line: string) => void;
  signal?: AbortSignal;
};

export class NixNotFound extends Error {}

export function runNix(command: 'nix' | 'nix-instantiate' | 'nix-store' | 'nix-env', args: string[], opts: NixOptions = {}): Promise<NixResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env, NIX_CONFIG: nixConfig() },
      stdio: ['pipe', 'pipe', 'pipe'],
      signal: opts.signal,
    });
    let stdout = '';
    let stderr = '';
    let pending = '';
    let timedOut = false;
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, opts.timeoutMs)
      : undefined;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (!opts.onStderrLine) return;
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) opts.onStderrLine(line);
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(error.code === 'ENOENT' ? new NixNotFound(`${command} is not installed (Debian/Ubuntu: apt-get install nix-bin)`) : error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (pending && opts.onStderrLine) opts.onStderrLine(pending);
      resolve({ code: code ?? -1, stdout, stderr, timedOut });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}
