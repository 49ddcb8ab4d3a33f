// The agent's own Nix runner. Whatever the host's nix.conf or NIX_CONFIG say, every Nix
// command the agent runs requires signatures, trusts only the keys the agent pinned
// (docs/decisions/0017) and substitutes from nowhere: the agent names the one cache it
// copies from, and nothing else may put a path into this host's store on its behalf.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

export type AgentNixResult = { code: number; stdout: string; stderr: string; timedOut: boolean };

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
 * NIX_CONFIG for the agent's commands: what the environment asks for first (tests add
 * their own lines), then the lines that must win. Nix applies NIX_CONFIG lines in order
 * and a plain `name = value` replaces everything set before it, `extra-…` lines included.
 */
export function agentNixConfig(trustedKeys: string[]): string {
  const lines = ['experimental-features = nix-command flakes'];
  if (!groupExists('nixbld')) lines.push('build-users-group =');
  if (existsSync('/bin/busybox')) lines.push('extra-sandbox-paths = /bin/sh=/bin/busybox');
  if (process.env.NIX_CONFIG) lines.push(process.env.NIX_CONFIG);
  if (process.env.FLOTILLA_NIX_CONFIG) lines.push(process.env.FLOTILLA_NIX_CONFIG.replace(/\\n/g, '\n'));
  lines.push('require-sigs = true', `trusted-public-keys = ${trustedKeys.join(' ')}`, 'substituters =', 'trusted-substituters =');
  return lines.join('\n');
}

/** Runs a Nix command with the agent's forced settings; `trustedKeys` is what the agent pins now (empty for commands that fetch nothing). */
/** `signal`: a cancel stops the command (a fetch of a cancelled target). */
export function runAgentNix(command: 'nix' | 'nix-env', args: string[], opts: { timeoutMs: number; trustedKeys?: string[]; signal?: AbortSignal }): Promise<AgentNixResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: { ...process.env, NIX_CONFIG: agentNixConfig(opts.trustedKeys ?? []) }, stdio: ['ignore', 'pipe', 'pipe'], signal: opts.signal, killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: -1, stdout, stderr: `${stderr}${command}: ${error.message}`, timedOut });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr, timedOut });
    });
  });
}
