// What the agent reports about its machine. With --store-root the Nix store and the
// system profile are those of a separate store root (a simulated host).
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ZStorePath } from '@/lib/agents/protocol';

const run = promisify(execFile);

export type SystemPaths = { storeRoot: string | null; profile: string };


/** Follows profile links (profile → generation link → store path) inside the store root. */
async function resolveSystem(link: string, storeRoot: string | null): Promise<string | null> {
  let current = link;
  for (let i = 0; i < 10; i++) {
    let target: string;
    try {
      target = await fs.readlink(current);
    } catch {
      return null;
    }
    const absolute = path.isAbsolute(target) ? target : path.join(path.dirname(current), target);
    if (ZStorePath.safeParse(absolute).success) return absolute;
    current = storeRoot && absolute.startsWith('/nix/') ? path.join(storeRoot, absolute) : absolute;
  }
  return null;
}

export async function currentSystem(paths: SystemPaths) {
  return resolveSystem(paths.storeRoot ? path.join(paths.storeRoot, paths.profile) : paths.profile, paths.storeRoot);
}

export async function bootedSystem(paths: SystemPaths) {
  // A simulated host never rebooted: it booted what it runs.
  if (paths.storeRoot) return currentSystem(paths);
  return resolveSystem('/run/booted-system', null);
}

export async function nixosVersion(system: string | null, storeRoot: string | null) {
  if (!system) return null;
  const file = path.join(storeRoot ?? '/', system, 'nixos-version');
  return (await fs.readFile(file, 'utf8').catch(() => '')).trim() || null;
}

/** Free bytes on the filesystem holding the Nix store (or its nearest existing parent, before the first deployment). */
export async function storeFree(storeRoot: string | null) {
  for (let dir = storeRoot ? path.join(storeRoot, 'nix', 'store') : '/nix/store'; ; dir = path.dirname(dir)) {
    try {
      const stats = await fs.statfs(dir);
      return stats.bavail * stats.bsize;
    } catch (error) {
      if (dir === path.dirname(dir)) throw error;
    }
  }
}

/** Failed systemd units, or null where there is no systemd (containers, simulated hosts). */
export async function failedUnits(storeRoot: string | null): Promise<string[] | null> {
  if (storeRoot) return null;
  try {
    const { stdout } = await run('systemctl', ['--failed', '--plain', '--no-legend', '--no-pager'], { timeout: 10_000 });
    return stdout
      .split('\n')
      .map((l) => l.trim().split(/\s+/)[0] ?? '')
      .filter(Boolean);
  } catch {
    return null;
  }
}

export async function heartbeatFacts(paths: SystemPaths) {
  const system = await currentSystem(paths);
  return {
    uptimeSeconds: os.uptime(),
    load1: os.loadavg()[0] ?? 0,
    memUsedBytes: os.totalmem() - os.freemem(),
    memTotalBytes: os.totalmem(),
    storeFreeBytes: await storeFree(paths.storeRoot),
    failedUnits: await failedUnits(paths.storeRoot),
    currentSystem: system,
    bootedSystem: await bootedSystem(paths),
    nixosVersion: await nixosVersion(system, paths.storeRoot),
  };
}
