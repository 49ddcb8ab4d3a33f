// Runs the real Nix CLI. Every Nix call in Flotilla's server and worker goes through
// here so that the configuration it runs with is decided in one place: the sandbox is
// always on, builds as root always use build users, and the environment is an
// allow-list (docs/decisions/0018-build-sandbox.md).
import 'server-only';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { killGroup, startTicks, type ProcessRef } from '@/lib/jobs/processes';
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
export function nixConfig(network: NixNetwork = 'host'): string {
  const lines = ['experimental-features = nix-command flakes'];
  lines.push(`extra-sandbox-paths = ${sandboxShellPaths()}`);
  const operator = [process.env.NIX_CONFIG, process.env.FLOTILLA_NIX_CONFIG?.replace(/\\n/g, '\n')].filter((v): v is string => Boolean(v));
  lines.push(...operator);
  lines.push('sandbox = true', 'sandbox-fallback = false');
  // Without a network no substituter answers: asking cache.nixos.org would only cost
  // Nix's five retries (seconds) before every build with the stand-in.
  if (network === 'isolated') lines.push('substituters =');
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
  /** Aborting kills the command's whole process group. */
  signal?: AbortSignal;
  /** Called once the command runs, with its process group (its leader's pid and start time): a build records it. */
  onSpawn?: (group: ProcessRef) => void;
};

/**
 * Every Nix command runs in a process group of its own (`detached`), so that stopping it
 * stops everything it started: `unshare`, the jail's shell and `nix` itself (Nix's
 * sandboxed builders live in PID namespaces under it and die with it). These are the
 * groups this process has running; they are killed when it exits, whatever the reason
 * (a SIGTERM that stops the worker, process.exit, an uncaught error).
 *
 * A SIGKILL of this process runs nothing, and Linux's PR_SET_PDEATHSIG is out of Node's
 * reach (and follows the spawning thread, not the process). No watchdog process is
 * added for it: a build records its group with its host and boot id on the build row,
 * and whoever takes the build over on this machine kills that group first
 * (lib/builds/run-build.ts); a worker that starts here runs the builds sweep at once,
 * which does so for every build still recorded with a dead worker of this machine. An
 * orphan outlives its worker only until then, and writes nothing anywhere: its results
 * were only ever reported by the worker that died. (One taken over from another machine,
 * after 90 s of silence, runs to its end there: nothing here can reach it.)
 */
const liveGroups = new Map<number, ProcessRef>();

/** Kills every Nix command this process is running (their whole groups). */
export function killNixGroups(signal: NodeJS.Signals = 'SIGKILL') {
  for (const group of liveGroups.values()) killGroup(group, signal);
}

process.once('exit', () => killNixGroups());

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
      env: nixEnvironment({ ...opts.env, ...jailed, NIX_CONFIG: nixConfig(opts.network) }),
      stdio: ['pipe', 'pipe', 'pipe'],
      // Its own process group (setsid): see liveGroups.
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    let pending = '';
    let timedOut = false;
    const group: ProcessRef | null = child.pid ? { pid: child.pid, start: startTicks(child.pid) } : null;
    if (group) {
      liveGroups.set(group.pid, group);
      opts.onSpawn?.(group);
    }
    const stop = () => {
      if (group) killGroup(group, 'SIGKILL');
      else child.kill('SIGKILL');
    };
    const onAbort = () => stop();
    if (opts.signal?.aborted) stop();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          stop();
        }, opts.timeoutMs)
      : undefined;
    const done = () => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      // Whatever the leader left behind in its group goes with it.
      if (group) {
        killGroup(group, 'SIGKILL');
        liveGroups.delete(group.pid);
      }
    };
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
      done();
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
      done();
      if (pending && opts.onStderrLine) opts.onStderrLine(pending);
      resolve({ code: code ?? -1, stdout, stderr, timedOut });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}
