// Closures from `nix path-info --json -r`, and the diff between two of them:
// packages added, removed, or at another version, and the size change.
import path from 'node:path';
import { z } from 'zod';
import { db } from '@/lib/db/client';
import type { TClosureDiff } from '@/lib/db/json-types';
import { closurePackages } from '@/lib/db/schema';
import { runNix } from '@/lib/nix/run';

export type PathInfo = { path: string; narSize: number; references: string[] };

const ZEntry = z.object({ narSize: z.number().optional(), references: z.array(z.string()).optional(), valid: z.boolean().optional() });
// Nix 2.8 prints an array of {path, …}; newer Nix an object keyed by path (null for missing paths).
const ZPathInfo = z.union([
  z.array(ZEntry.extend({ path: z.string() })),
  z.record(z.string(), ZEntry.nullable()),
]);

export function parsePathInfo(json: string): PathInfo[] {
  const parsed = ZPathInfo.parse(JSON.parse(json));
  const entries = Array.isArray(parsed) ? parsed.map((e) => [e.path, e] as const) : Object.entries(parsed);
  const out: PathInfo[] = [];
  for (const [p, e] of entries) {
    if (!e || e.valid === false) throw new Error(`${p} is not in the store`);
    out.push({ path: p, narSize: e.narSize ?? 0, references: (e.references ?? []).map((r) => (r.startsWith('/') ? r : `/nix/store/${r}`)) });
  }
  return out;
}

export async function closureOf(storePath: string, opts: { store?: string } = {}): Promise<PathInfo[]> {
  const args = ['path-info', '--json', '-r', storePath];
  if (opts.store) args.splice(1, 0, '--store', opts.store);
  const result = await runNix('nix', args, { timeoutMs: 5 * 60 * 1000 });
  if (result.code !== 0) throw new Error(`nix path-info failed: ${result.stderr.trim().slice(0, 1000)}`);
  return parsePathInfo(result.stdout);
}

/** `/nix/store/<hash>-hello-2.12.1` → {pname: 'hello', version: '2.12.1'}, split as Nix does: at the first dash before a digit. */
export function parseName(storePath: string): { pname: string; version: string } {
  const name = path.basename(storePath).slice(33);
  const match = /^(.+?)-(\d[^-]*(?:-.+)?)$/.exec(name);
  return match ? { pname: match[1] as string, version: match[2] as string } : { pname: name, version: '' };
}

/** The closure as package names and versions, for the software inventory (paths without a version are not packages). */
export async function recordClosurePackages(buildId: string, paths: string[]) {
  const rows = paths.map((storePath) => ({ buildId, storePath, ...parseName(storePath) })).filter((r) => r.version);
  for (let i = 0; i < rows.length; i += 1000) await db().insert(closurePackages).values(rows.slice(i, i + 1000)).onConflictDoNothing();
}

function versionsByName(closure: PathInfo[]) {
  const map = new Map<string, Set<string>>();
  for (const p of closure) {
    const { pname, version } = parseName(p.path);
    if (!map.has(pname)) map.set(pname, new Set());
    map.get(pname)?.add(version);
  }
  return map;
}

export function diffClosures(before: PathInfo[], after: PathInfo[]): TClosureDiff {
  const a = versionsByName(before);
  const b = versionsByName(after);
  const join = (s?: Set<string>) => [...(s ?? [])].sort().join(', ');
  const diff: TClosureDiff = { added: [], removed: [], changed: [], sizeBefore: 0, sizeAfter: 0, sizeDelta: 0 };
  for (const [pname, versions] of b) {
    if (!a.has(pname)) diff.added.push({ pname, version: join(versions) });
    else if (join(a.get(pname)) !== join(versions)) diff.changed.push({ pname, from: join(a.get(pname)), to: join(versions) });
  }
  for (const [pname, versions] of a) if (!b.has(pname)) diff.removed.push({ pname, version: join(versions) });
  const byName = (x: { pname: string }, y: { pname: string }) => x.pname.localeCompare(y.pname);
  diff.added.sort(byName);
  diff.removed.sort(byName);
  diff.changed.sort(byName);
  diff.sizeBefore = before.reduce((n, p) => n + p.narSize, 0);
  diff.sizeAfter = after.reduce((n, p) => n + p.narSize, 0);
  diff.sizeDelta = diff.sizeAfter - diff.sizeBefore;
  return diff;
}
