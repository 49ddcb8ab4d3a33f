// Running a program that lives in the host's store: directly on a real host; for a
// simulated host (--store-root) in a private mount namespace with that root's store
// bound at /nix/store, so the program sees the paths it was built against.
import { spawn } from 'node:child_process';
import type { SystemPaths } from './system';

/** `signal`: a cancel stops the program (a pre-switch check of a cancelled target). */
export type StoreExecContext = { paths: SystemPaths; env?: Record<string, string>; signal?: AbortSignal };

export type StoreExecResult = { code: number; output: string; stdout: string; timedOut: boolean };

/** `output` is stdout and stderr as they came; `stdout` alone, for programs that answer in JSON. */
export function runFromStore(ctx: StoreExecContext, argv: string[], timeoutMs: number): Promise<StoreExecResult> {
  const root = ctx.paths.storeRoot;
  const [cmd, args] = root
    ? ['unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'mount --bind "$1/nix/store" /nix/store && mount --bind "$1/nix/var" /nix/var && shift && exec "$@"', 'sh', root, ...argv]]
    : [argv[0] as string, argv.slice(1)];
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...ctx.env }, stdio: ['ignore', 'pipe', 'pipe'], signal: ctx.signal, killSignal: 'SIGKILL' });
    let output = '';
    let stdout = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (d) => {
      output += d;
      stdout += d;
    });
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: -1, output: `${output}${error.message}`, stdout, timedOut });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, output, stdout, timedOut });
    });
  });
}

