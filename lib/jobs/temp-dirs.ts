// Temporary directories that say who owns them, and the sweep that removes the ones
// whose owner is gone. A worker killed with SIGKILL (or a machine that lost power)
// never runs its `finally`; what it left (a build's flake and Nix's build directories,
// signing keys written for one command) is removed when a worker starts.
//
// The owner is in the name, written atomically by mkdtemp:
//   flotilla-<kind>.<pid>.<start ticks>.XXXXXX
// so no directory exists, even for an instant, without saying whose it is. Only names
// of exactly that form are ever removed; anything else in the same parent is left alone.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { isAlive, startTicks } from './processes';

const OWNED = /^flotilla-([a-z][a-z-]*)\.(\d+)\.(\d+)\.[A-Za-z0-9]{6}$/;

/** A new directory under `parent` owned by this process (`kind`: lower-case letters and hyphens, e.g. `build`). */
export async function makeTempDir(parent: string, kind: string): Promise<string> {
  if (!/^[a-z][a-z-]*$/.test(kind)) throw new Error(`temporary directory kind ${kind}: lower-case letters and hyphens`);
  return mkdtemp(path.join(parent, `flotilla-${kind}.${process.pid}.${startTicks(process.pid) ?? 0}.`));
}

/** The owner recorded in a directory's name, or null for a name that is not ours. */
export function ownerOf(name: string): { kind: string; pid: number; start: number | null } | null {
  const m = OWNED.exec(name);
  if (!m) return null;
  const start = Number(m[3]);
  return { kind: m[1] as string, pid: Number(m[2]), start: start === 0 ? null : start };
}

/** Removes our directories in `parents` whose owning process is gone; returns their paths. */
export async function sweepTempDirs(parents: string[]): Promise<string[]> {
  const removed: string[] = [];
  for (const parent of new Set(parents)) {
    let names: string[];
    try {
      names = await readdir(parent);
    } catch {
      continue;
    }
    for (const name of names) {
      const owner = ownerOf(name);
      if (!owner || isAlive(owner)) continue;
      const dir = path.join(parent, name);
      try {
        await rm(dir, { recursive: true, force: true });
        removed.push(dir);
      } catch (error) {
        // A mount left inside (the jail's root is one only inside its own namespace) or a permission: say so and go on.
        console.error(`[worker] could not remove ${dir}: ${(error as Error).message}`);
      }
    }
  }
  return removed;
}
