// The stand-in nixpkgs (nix/standin) with real Nix: lib.nixosSystem's module merge,
// its package set, and a toplevel built into a throwaway chroot store whose closure
// holds the packages and whose switch-to-configuration really runs.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { runNix } from '@/lib/nix/run';
import { standinFlakeRef } from '@/lib/packages/source';

let tmp: string;
let expr: string;
let storeRoot: string;

// Everything the tests evaluate or build, in one file so that one `nix build` builds both systems.
const expression = (flakeRef: string) => `
let
  standin = builtins.getFlake ${JSON.stringify(flakeRef)};
  config = modules: (standin.lib.nixosSystem { inherit modules; specialArgs = { site = "lab"; }; }).config;
  names = map (p: p.pname);

  web = config [
    ({ config, pkgs, lib, site, ... }: {
      imports = [ ./base.nix { networking.hostName = "web-01"; } ];
      environment.systemPackages = [ pkgs.hello ];
      environment.etc.motd = "\${config.networking.hostName} at \${site}";
    })
    ({ pkgs, ... }: { environment.systemPackages = [ pkgs.jq pkgs.cowsay ]; })
    # The same value twice is no conflict.
    { networking.hostName = "web-01"; }
  ];
  failing = config [ ({ pkgs, ... }: { networking.hostName = "broken-01"; flotilla.test.failActivation = true; environment.systemPackages = [ pkgs.tree ]; }) ];
in {
  merged = {
    hostName = web.networking.hostName;
    motd = web.environment.etc.motd;
    packages = names web.environment.systemPackages;
    stateVersion = web.system.stateVersion;
    timeZone = web.time.timeZone;
  };
  defaults = { inherit (config [ ]) networking environment; };
  conflict = (config [ { networking.hostName = "a"; } { imports = [ { networking.hostName = "b"; } ]; } ]).networking.hostName;
  index = standin.packageIndex;
  attrs = { x86 = builtins.attrNames standin.legacyPackages.x86_64-linux; arm = builtins.attrNames standin.legacyPackages.aarch64-linux; };
  armSystem = standin.legacyPackages.aarch64-linux.hello.system;
  web = web.system.build.toplevel;
  failing = failing.system.build.toplevel;
}
`;

async function evalJson(attr: string) {
  const result = await runNix('nix', ['eval', '--json', '--impure', '-f', expr, attr]);
  return { ...result, value: result.code === 0 ? (JSON.parse(result.stdout) as unknown) : undefined };
}

/** Runs a program from the chroot store's directory on disk (the stand-in's scripts are plain /bin/sh). */
function run(file: string, args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(file, args, { env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

// `nix path-info --json` is an array in 2.8 and an object keyed by path in newer Nix.
const ZPathInfo = z.union([
  z.array(z.object({ path: z.string(), references: z.array(z.string()) })),
  z.record(z.string(), z.object({ references: z.array(z.string()) })),
]);
function closureOf(json: string) {
  const parsed = ZPathInfo.parse(JSON.parse(json));
  return Array.isArray(parsed) ? parsed : Object.entries(parsed).map(([p, info]) => ({ path: p, references: info.references }));
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-standin-'));
  storeRoot = path.join(tmp, 'store');
  expr = path.join(tmp, 'systems.nix');
  await writeFile(path.join(tmp, 'base.nix'), '{ lib, ... }: { time.timeZone = "UTC"; imports = [ { environment.systemPackages = [ ]; } ]; }\n');
  await writeFile(expr, expression(standinFlakeRef()));
});

afterAll(async () => {
  if (!tmp) return;
  // Store directories are read-only, which stops rm for anyone but root.
  await run('chmod', ['-R', 'u+w', tmp]);
  await rm(tmp, { recursive: true, force: true });
});

describe('stand-in lib.nixosSystem', () => {
  it('merges modules: functions reading config, imports (paths too), concatenated lists, equal values, defaults', async () => {
    const { value, stderr } = await evalJson('merged');
    expect(value, stderr).toEqual({ hostName: 'web-01', motd: 'web-01 at lab', packages: ['hello', 'jq', 'cowsay'], stateVersion: '24.11', timeZone: 'UTC' });
    expect((await evalJson('defaults')).value).toEqual({ networking: { hostName: 'nixos' }, environment: { systemPackages: [] } });
  });

  it('refuses two different values for one option, naming it', async () => {
    const result = await evalJson('conflict');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("The option `networking.hostName' has conflicting definitions");
  });

  it('offers the same packages for both systems, and an index of them', async () => {
    const index = z.array(z.object({ attr: z.string(), pname: z.string(), version: z.string(), description: z.string().min(10) })).parse((await evalJson('index')).value);
    expect(index.length).toBeGreaterThanOrEqual(12);
    expect(index.length).toBeLessThanOrEqual(20);
    expect(index).toContainEqual(expect.objectContaining({ attr: 'hello', pname: 'hello', version: '2.12.1' }));
    const attrs = z.object({ x86: z.array(z.string()), arm: z.array(z.string()) }).parse((await evalJson('attrs')).value);
    expect(attrs.arm).toEqual(attrs.x86);
    expect([...attrs.x86].sort()).toEqual(index.map((p) => p.attr).sort());
    expect((await evalJson('armSystem')).value).toBe('aarch64-linux');
  });
});

describe('stand-in toplevel', () => {
  let web: string;
  let failing: string;
  const onDisk = (storePath: string) => path.join(storeRoot, storePath);

  beforeAll(async () => {
    // A fresh chroot store: every derivation really builds, and nothing leaks into /nix/store.
    const result = await runNix('nix', ['build', '--store', storeRoot, '--impure', '--json', '--no-link', '-f', expr, 'web', 'failing'], { timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(0);
    const outs = z.array(z.object({ outputs: z.object({ out: z.string() }) })).parse(JSON.parse(result.stdout));
    // The order of `--json` results is not the order of the installables.
    const out = (host: string) => outs.map((o) => o.outputs.out).find((p) => p.includes(`-nixos-system-${host}-`)) ?? '';
    [web, failing] = [out('web-01'), out('broken-01')];
  });

  it('is named after the host, and has nixos-version, the package list and sw/bin links', async () => {
    expect(web).toMatch(/^\/nix\/store\/[a-z0-9]{32}-nixos-system-web-01-24\.11\.standin$/);
    expect(await readFile(path.join(onDisk(web), 'nixos-version'), 'utf8')).toBe('24.11.standin\n');
    expect(await readFile(path.join(onDisk(web), 'etc/flotilla/packages'), 'utf8')).toBe('hello 2.12.1\njq 1.7.1\ncowsay 3.7.0\n');
    const hello = await readlink(path.join(onDisk(web), 'sw/bin/hello'));
    expect(hello).toMatch(/^\/nix\/store\/[a-z0-9]{32}-hello-2\.12\.1\/bin\/hello$/);
    expect((await run(onDisk(hello), [])).stdout).toBe('hello 2.12.1\n');
    // The link points into the store it was built in (a chroot store here), not this machine's /nix/store.
    expect(existsSync(onDisk(await readlink(path.join(onDisk(web), 'sw/bin/cowsay'))))).toBe(true);
  });

  it('references its packages, so its closure carries them', async () => {
    const result = await runNix('nix', ['path-info', '--store', storeRoot, '-r', '--json', web]);
    expect(result.code, result.stderr).toBe(0);
    const closure = closureOf(result.stdout);
    const names = closure.map((p) => p.path.slice('/nix/store/'.length + 33)).sort();
    expect(names).toEqual(['cowsay-3.7.0', 'hello-2.12.1', 'jq-1.7.1', 'nixos-system-web-01-24.11.standin']);
    expect(closure.find((p) => p.path === web)?.references).toHaveLength(4);
  });

  it('activates: switch-to-configuration logs real activations (not dry-activate) with its own store path', async () => {
    const log = path.join(tmp, 'activation.log');
    const stc = path.join(onDisk(web), 'bin/switch-to-configuration');
    for (const action of ['dry-activate', 'switch', 'boot']) {
      expect(await run(stc, [action], { FLOTILLA_ACTIVATION_LOG: log })).toMatchObject({ code: 0, stderr: '' });
    }
    expect(await readFile(log, 'utf8')).toBe(`switch ${web}\nboot ${web}\n`);
    expect((await run(stc, ['rollback'])).code).toBe(1);
  });

  it('fails activation on demand, but not a dry run', async () => {
    const stc = path.join(onDisk(failing), 'bin/switch-to-configuration');
    const switched = await run(stc, ['switch']);
    expect(switched.code).toBe(1);
    expect(switched.stderr).toMatch(/activation of broken-01 failed \(flotilla\.test\.failActivation\)/);
    expect((await run(stc, ['dry-activate'])).code).toBe(0);
  });
});
