// Proof, before the first build, that builds run the way docs/decisions/0018 says:
// inside Nix's sandbox, and as a build user rather than root. Reading nix.conf or
// /etc/group would only say what ought to happen; the probe builds a tiny derivation
// and asks it what it sees. It takes about 100 ms and runs once per process.
import { randomBytes } from 'node:crypto';
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { makeTempDir } from '@/lib/jobs/temp-dirs';
import { nixString } from './literal';
import { runNix } from './run';

/** Builds would not be sandboxed, or would run as root: the worker refuses to start and builds fail with this message. */
export class BuildSandboxUnavailable extends Error {}

export type SandboxReport = {
  /** The uid the builder has on the machine (outside the sandbox's user namespace): a build user's, never 0. */
  builderUid: number;
  ms: number;
};

const FIX_USERS =
  'Give Nix build users: install nix-bin with its recommends (Debian/Ubuntu: apt-get install nix-bin nix-setup-systemd, which creates the nixbld group with users nixbld1..10), or create the nixbld group with build users yourself (groupadd -r nixbld; useradd -r -g nixbld -G nixbld -d /var/empty -s /usr/sbin/nologin nixbld1, … nixbld10), or run a nix-daemon and start Flotilla with NIX_REMOTE=daemon.';
const FIX_SANDBOX =
  "Nix's sandbox needs Linux user, mount, PID and network namespaces: run Flotilla's worker on a host or VM (not an unprivileged container), or run a nix-daemon with sandbox = true and start Flotilla with NIX_REMOTE=daemon.";
const FIX_SHELL =
  "The probe's builder is /bin/sh inside the sandbox: Flotilla maps /bin/busybox there when it exists (it must be busybox-static: apt-get install busybox-static), otherwise the system's /bin, /usr and /lib; or add `sandbox-paths = /bin/sh=<a static shell>` to FLOTILLA_NIX_CONFIG.";

const ZProbeOutput = z.array(z.object({ outputs: z.object({ out: z.string() }) })).length(1);
const ZProbeReport = z.object({ uid: z.coerce.number().int(), visible: z.enum(['yes', 'no']) });

function firstError(stderr: string): string {
  const at = stderr.indexOf('error:');
  // Nix's builder errors carry terminal control bytes; the message goes to a log and a terminal.
  // eslint-disable-next-line no-control-regex -- control bytes are what is replaced
  const text = (at >= 0 ? stderr.slice(at) : stderr).replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ');
  return text.trim().slice(0, 600) || 'no message';
}

function refusal(stderr: string): BuildSandboxUnavailable {
  const error = firstError(stderr);
  const fix = /build-users-group|build users|nixbld/.test(error)
    ? FIX_USERS
    : /\/bin\/sh|executing|No such file/.test(error)
      ? FIX_SHELL
      : /namespace|clone|unshare|sandbox|Operation not permitted|mount/i.test(error)
        ? FIX_SANDBOX
        : `${FIX_USERS} ${FIX_SANDBOX}`;
  return new BuildSandboxUnavailable(`Flotilla will not build: a sandboxed test build failed (${error}). ${fix}`);
}

/** Builds the probe derivation now (no cache); what requireBuildSandbox runs once per process. */
export async function probeBuildSandbox(): Promise<SandboxReport> {
  const started = Date.now();
  const dir = await makeTempDir(os.tmpdir(), 'sandbox-probe');
  try {
    // Readable by everyone, so that only the sandbox (not file modes) can hide it from the builder.
    await chmod(dir, 0o755);
    const marker = path.join(dir, 'visible-outside-the-sandbox');
    if (!/^[\w./-]+$/.test(marker)) throw new Error(`unexpected characters in the temporary directory ${dir}`);
    await writeFile(marker, 'x\n', { mode: 0o644 });
    // The builder reads its uid on the machine from the user namespace map (inside the
    // sandbox `id -u` always says 1000) and whether a host path is visible. Shell
    // builtins only: without the sandbox PATH is unset.
    const script = [
      'read -r inner outer count < /proc/self/uid_map',
      `if [ -e '${marker}' ]; then visible=yes; else visible=no; fi`,
      'echo "{\\"uid\\":\\"$outer\\",\\"visible\\":\\"$visible\\"}" > $out',
    ].join('\n');
    const file = path.join(dir, 'probe.nix');
    await writeFile(
      file,
      `builtins.derivation {
  name = "flotilla-sandbox-probe";
  system = builtins.currentSystem;
  builder = "/bin/sh";
  # A new derivation each time, so the probe really builds.
  nonce = ${nixString(randomBytes(12).toString('hex'))};
  args = [ "-c" ${nixString(script)} ];
}
`,
    );
    // Isolated like the builds that need no network, so the check covers `unshare` too.
    const result = await runNix('nix', ['build', '--json', '--no-link', '-f', file], { network: 'isolated', timeoutMs: 60_000 });
    if (result.code !== 0) throw refusal(result.stderr);
    const [built] = ZProbeOutput.parse(JSON.parse(result.stdout));
    const out = built?.outputs.out as string;
    const report = ZProbeReport.parse(JSON.parse(await readFile(out, 'utf8')));
    // Its output stays in the store (a few bytes, unreferenced): the next garbage collection takes it.
    if (report.visible === 'yes') {
      throw new BuildSandboxUnavailable(
        `Flotilla will not build: Nix ran a test build without its sandbox (the builder could read ${marker}). If a nix-daemon builds for Flotilla, set sandbox = true and sandbox-fallback = false in the daemon's nix.conf. ${FIX_SANDBOX}`,
      );
    }
    if (report.uid === 0) throw new BuildSandboxUnavailable(`Flotilla will not build: Nix ran a test build as root, without build users. ${FIX_USERS}`);
    return { builderUid: report.uid, ms: Date.now() - started };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

let checked: Promise<SandboxReport> | undefined;

/**
 * Resolves when builds are sandboxed and run as a build user; rejects with
 * BuildSandboxUnavailable (or NixNotFound) otherwise. A success is kept for the life of
 * the process; a failure is not, so fixing the machine needs no restart of a server.
 */
export function requireBuildSandbox(): Promise<SandboxReport> {
  checked ??= probeBuildSandbox().catch((error: unknown) => {
    checked = undefined;
    throw error;
  });
  return checked;
}
