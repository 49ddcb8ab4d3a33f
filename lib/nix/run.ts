// Runs the real Nix CLI. Every Nix call in Flotilla's server and worker goes through
// here so that the configuration it runs with is decided in one place: the sandbox is
// always on, builds as root always use build users, and the environment is an
// allow-list (docs/decisions/0018-build-sandbox.md).
import 'server-only';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { nixEnvironment } from './environment';
import { jailArgs, type Jail } from './jail';

const isRoot = () => process.getuid?.() === 0;

/** The group named by the last `build-users-group = …` line of `text`, if it names one. */
function buildUsersGroupIn(text: string): string | undefined {
  const named = [...text.matchAll(/^\s*build-users-group\s*=\s*(\S*)\s*$/gm)].map((m) => m[1]);
  const last = named.at(-1);
  return last ? last : undefined;
}

/**
 * NIX_CONFIG for our calls: flakes on; a /bin/sh inside the sandbox (sandboxShellPaths); then NIX_CONFIG and FLOTILLA_NIX_CONFIG (tests set `substituters =`
 * so nothing waits on the public cache); then the lines that must win. Nix applies
 * NIX_CONFIG lines in order, and they override /etc/nix/nix.conf (Debian's says
 * `sandbox = false`). As root, builds run as the build users of `nixbld` (or the group
 * the operator's lines name), never as root: an empty group is not accepted.
 */
export function nixConfig(): string {
  const lines = ['experimental-features = nix-command flakes'];
  lines.push(`extra-sandbox-paths = ${sandboxShellPaths()}`);
  const operator = [process.env.NIX_CONFIG, process.env.FLOTILLA_NIX_CONFIG?.replace(/\\n/g, '\n')].filter((v): v is string => Boolean(v));
  lines.push(...operator);
  lines.push('sandbox = true', 'sandbox-fallback = false');
  if (isRoot()) lines.push(`build-users-group = ${buildUsersGroupIn(operator.join('\n')) ?? 'nixbld'}`);
  return lines.join('\n');
}

/**
 * What gives builders a /bin/sh inside the sandbox (Debian's Nix is built without a
 * sandbox shell): busybox-static when it is installed, a static shell and nothing else;
 * otherwise the system's own /bin and /usr with the libraries they load, read-only to
 * the build users. Either way the sandbox still hides the data directory, other
 * closures, the network and every secret; /usr only adds the system's programs.
 */
export function sandboxShellPaths(): string {
  if (existsSync('/bin/busybox')) return '/bin/sh=/bin/busybox';
  return ['/bin', '/usr', '/lib', '/lib64'].filter((p) => existsSync(p)).join(' ');
}

export type NixResult = { code: number; stdout: string; stderr: string; timedOut: boolean };

/**
 * `isolated`: the command runs in a network namespace of its own with nothing in it, so
 * neither evaluation-time fetches nor fixed-output derivations (which Nix's sandbox
 * leaves on the host's network) reach anything, loopback included. `host` (the
 * default): the machine's network, for commands that fetch.
 */
export type NixNetwork = 'host' | 'isolated';

export type NixOptions = {
  input?: string;
  timeoutMs?: number;
  cwd?: string;
  /** Added to the allow-listed environment (./environment.ts) for this command. */
  env?: Record<string, string>;
  network?: NixNetwork;
  /** Run chrooted into a root that holds only what Nix needs (./jail.ts): for commands that evaluate operator code. */
  jail?: Jail;
  /** Called for each complete stderr line as it arrives (progress, logs). */
  onStderrLine?: (line: string) => void;
  signal?: AbortSignal;
};

export class NixNotFound extends Error {}

export type NixCommand = 'nix' | 'nix-instantiate' | 'nix-store' | 'nix-env';

/** The program and arguments that run `command`: in the jail, and inside an empty network namespace, when asked. */
export function nixInvocation(command: NixCommand, args: string[], network: NixNetwork = 'host', jail?: Jail): [string, string[]] {
  if (jail) return ['unshare', jailArgs(jail, command, args, { root: isRoot(), isolated: network === 'isolated' })];
  if (network === 'host') return [command, args];
  // Root may make a network namespace directly; anyone else makes it inside a user
  // namespace that maps them to themselves (a nix-daemon then still sees their uid).
  return ['unshare', [...(isRoot() ? ['--net'] : ['--map-current-user', '--net']), '--', command, ...args]];
}

export function runNix(command: NixCommand, args: string[], opts: NixOptions = {}): Promise<NixResult> {
  return new Promise((resolve, reject) => {
    const [program, argv] = nixInvocation(command, args, opts.network, opts.jail);
    // In the jail /tmp is the jail's own, and there is no home directory.
    const jailed: Record<string, string> = opts.jail ? { TMPDIR: '/tmp', HOME: '/tmp' } : {};
    const child = spawn(program, argv, {
      cwd: opts.jail ? '/' : opts.cwd,
      env: nixEnvironment({ ...opts.env, ...jailed, NIX_CONFIG: nixConfig() }),
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
      if (error.code !== 'ENOENT') return reject(error);
      reject(
        new NixNotFound(
          program === 'unshare'
            ? 'unshare is not installed (Debian/Ubuntu: apt-get install util-linux); isolated builds need it'
            : `${command} is not installed (Debian/Ubuntu: apt-get install nix-bin)`,
        ),
      );
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
