// Where an organisation's binary cache lives on disk, and pushing a closure into it.
import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { db } from '@/lib/db/client';
import { cacheObjects } from '@/lib/db/schema';
import { env } from '@/lib/env';
import { runNix } from '@/lib/nix/run';
import { withSecretKeyFile } from './keys';

export function cacheDir(orgId: string): string {
  return path.join(env().dataDir, 'cache', orgId);
}

export function storeHashOf(storePath: string): string {
  return path.basename(storePath).slice(0, 32);
}

/**
 * Copies a closure into the organisation's cache, signed with its key, and records
 * which NAR file each path's narinfo points at (the cache checks access by it).
 */
export async function pushClosure(
  orgId: string,
  storePath: string,
  closure: string[],
  opts: { fromStore?: string; onProgress?: (line: string) => void; signal?: AbortSignal } = {},
) {
  const dir = cacheDir(orgId);
  await mkdir(dir, { recursive: true });
  await withSecretKeyFile(orgId, async (keyFile) => {
    const args = ['copy', '--log-format', 'internal-json', '--to', `file://${dir}?secret-key=${keyFile}&compression=xz`, storePath];
    if (opts.fromStore) args.splice(1, 0, '--from', opts.fromStore);
    const result = await runNix('nix', args, { onStderrLine: opts.onProgress, signal: opts.signal, timeoutMs: 60 * 60 * 1000 });
    if (result.code !== 0) throw new Error(`nix copy to the cache failed: ${result.stderr.replace(/^@nix .*$/gm, '').trim().slice(0, 2000)}`);
  });
  const rows = [];
  for (const p of closure) {
    const hash = storeHashOf(p);
    const narinfo = await readFile(path.join(dir, `${hash}.narinfo`), 'utf8');
    const url = /^URL: (.+)$/m.exec(narinfo)?.[1]?.trim();
    if (!url) throw new Error(`narinfo for ${p} has no URL`);
    const size = await stat(path.join(dir, url)).then((s) => s.size).catch(() => null);
    rows.push({ orgId, storeHash: hash, storePath: p, narUrl: url, fileSize: size });
  }
  for (let i = 0; i < rows.length; i += 500) {
    await db()
      .insert(cacheObjects)
      .values(rows.slice(i, i + 500))
      .onConflictDoUpdate({ target: [cacheObjects.orgId, cacheObjects.storeHash], set: { narUrl: sql`excluded.nar_url`, fileSize: sql`excluded.file_size` } });
  }
}
