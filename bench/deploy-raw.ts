// The baseline of bench/deploy.ts: the Nix commands Flotilla's build worker and agent run
// to put a system on a host, run by hand with child_process, one after the other:
//   build:  nix build <flake>#…toplevel            (lib/builds/run-build.ts, without its jail)
//           nix copy --to file://CACHE?secret-key  (lib/cache/storage.ts: push and sign in one step)
//   deploy: nix copy --from CACHE --to STORE-ROOT  (agent/activate.ts fetch, pinned key, signatures required)
//           nix-env --store ROOT -p PROFILE --set  (agent/activate.ts)
//           switch-to-configuration switch         (agent/store-exec.ts: in a mount namespace with ROOT's store)
// Each with the same Nix settings the worker (nixConfig) and the agent (agentNixConfig) use.
import { execFile } from 'node:child_process';
import { mkdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { agentNixConfig } from '@/agent/nix';
import { writeBuildFlake } from '@/lib/builds/flake';
import type { TBuildInputs } from '@/lib/db/json-types';
import { nixConfig, runNix } from '@/lib/nix/run';

type Run = { stdout: string; ms: number };

/** Runs a command, throwing with its output when it fails; returns stdout and how long it took. */
export function timed(file: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    execFile(file, args, { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024, timeout: 10 * 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      else resolve({ stdout, ms: performance.now() - started });
    });
  });
}

export type RawHost = {
  /** The simulated host's chroot store root (like the agent's --store-root). */
  root: string;
  /** A file:// binary cache directory and the key pair that signs it. */
  cacheDir: string;
  secretKeyFile: string;
  publicKey: string;
  activations: string;
};

const PROFILE = '/nix/var/nix/profiles/system';

/** `nix build` of the flake Flotilla would write for these inputs, then the signed push into the file:// cache. */
export async function rawBuild(host: RawHost, dir: string, hostName: string, inputs: TBuildInputs) {
  const target = await writeBuildFlake(dir, hostName, inputs);
  // The worker's settings (sandbox on, build users, busybox /bin/sh), with the host's network: no jail.
  const env = { NIX_CONFIG: nixConfig('host') };
  const build = await timed('nix', ['build', '--json', '--no-link', target], env);
  const storePath = (JSON.parse(build.stdout) as { outputs: { out: string } }[])[0]?.outputs.out;
  if (!storePath) throw new Error(`nix build printed no output path: ${build.stdout}`);
  const push = await timed('nix', ['copy', '--to', `file://${host.cacheDir}?secret-key=${host.secretKeyFile}&compression=xz`, storePath], env);
  const narinfo = await readFile(path.join(host.cacheDir, `${path.basename(storePath).slice(0, 32)}.narinfo`), 'utf8');
  if (!/^Sig: /m.test(narinfo)) throw new Error(`the raw push of ${storePath} is not signed`);
  // Run by the worker too, to record the closure (lib/builds/closure.ts); timed apart from the core sequence.
  const closure = await timed('nix', ['path-info', '--json', '-r', storePath], env);
  return { storePath, phases: { 'nix build': build.ms, 'nix copy --to cache (signs)': push.ms }, extra: { 'nix path-info -r (the closure)': closure.ms } };
}

/** `unshare` arguments that run a program with `root`'s store at /nix/store, as agent/store-exec.ts does for a simulated host. */
const inStore = (root: string) => ['-m', '--propagation', 'private', 'sh', '-c', 'mount --bind "$1/nix/store" /nix/store && mount --bind "$1/nix/var" /nix/var && shift && exec "$@"', 'sh', root];

/** What the agent does with a deploy, minus the server's confirmation. */
export async function rawDeploy(host: RawHost, storePath: string) {
  const env = { NIX_CONFIG: agentNixConfig([host.publicKey]) };
  const fetch = await timed(
    'nix',
    ['copy', '--from', `file://${host.cacheDir}`, '--to', host.root, '--option', 'require-sigs', 'true', '--option', 'trusted-public-keys', host.publicKey, storePath],
    env,
  );
  // Run by the agent too, before and after the fetch (agent/activate.ts, agent/prechecks.ts); timed apart from the core sequence.
  const size = await timed('nix', ['path-info', '--json', '-S', '--store', `file://${host.cacheDir}`, storePath], env);
  const dry = await timed('unshare', [...inStore(host.root), `${storePath}/bin/switch-to-configuration`, 'dry-activate'], { FLOTILLA_ACTIVATION_LOG: host.activations });
  const set = await timed('nix-env', ['--store', host.root, '-p', path.join(host.root, PROFILE), '--set', storePath], env);
  const sw = await timed('unshare', [...inStore(host.root), `${storePath}/bin/switch-to-configuration`, 'switch'], { FLOTILLA_ACTIVATION_LOG: host.activations });
  // It really is the host's system now: the profile's generation link points at it and the switch ran.
  const generation = await readlink(path.join(host.root, PROFILE));
  const current = await readlink(path.join(host.root, path.dirname(PROFILE), generation));
  if (current !== storePath) throw new Error(`the raw host's profile points at ${current}, not ${storePath}`);
  const last = (await readFile(host.activations, 'utf8')).trim().split('\n').at(-1);
  if (last !== `switch ${storePath}`) throw new Error(`the raw host's last activation was "${last}", not the switch to ${storePath}`);
  return {
    phases: { 'nix copy --from cache': fetch.ms, 'nix-env --set': set.ms, 'switch-to-configuration switch': sw.ms },
    extra: { 'nix path-info -S (closure size)': size.ms, 'switch-to-configuration dry-activate': dry.ms },
  };
}

/**
 * What the build's jail (lib/nix/jail.ts: new namespaces, a root of bind mounts, no
 * network) adds to one Nix command: `nix --version` through runNix in the jail, minus
 * the same plain, in ms. The worker's `nix build` runs in it; the raw build does not.
 */
export async function jailCost(dir: string) {
  const plain: number[] = [];
  const jailed: number[] = [];
  for (let i = 0; i < 7; i++) {
    const d = path.join(dir, `jail-${i}`);
    await mkdir(path.join(d, 'root'), { recursive: true });
    await mkdir(path.join(d, 'tmp'));
    let t = performance.now();
    if ((await runNix('nix', ['--version'])).code !== 0) throw new Error('nix --version failed');
    plain.push(performance.now() - t);
    t = performance.now();
    const r = await runNix('nix', ['--version'], { network: 'isolated', jail: { mountpoint: path.join(d, 'root'), tmp: path.join(d, 'tmp'), paths: [] } });
    if (r.code !== 0) throw new Error(`nix --version in the jail failed: ${r.stderr}`);
    jailed.push(performance.now() - t);
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  return { plain: median(plain), jailed: median(jailed) };
}
