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

/** The files a reboot would change: what NixOS's own switch compares (nixos-needsreboot). */
const BOOT_FILES = ['kernel', 'initrd', 'kernel-modules'];

/**
 * Does the machine need a reboot to run all of `current`? By NixOS's rule: yes when the
 * booted system's kernel, initrd or kernel modules are not the current system's. A
 * system with none of them (a container, the stand-in's systems) never does.
 */
export async function bootFilesDiffer(booted: string, current: string): Promise<boolean> {
  const target = (dir: string, name: string) => fs.realpath(path.join(dir, name)).catch(() => null);
  for (const name of BOOT_FILES) {
    if ((await target(booted, name)) !== (await target(current, name))) return true;
  }
  return false;
}

export async function needsReboot(paths: SystemPaths): Promise<boolean> {
  // A simulated host never rebooted: it booted what it runs.
  if (paths.storeRoot) return false;
  return bootFilesDiffer('/run/booted-system', '/run/current-system');
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
    needsReboot: await needsReboot(paths),
    nixosVersion: await nixosVersion(system, paths.storeRoot),
  };
}
