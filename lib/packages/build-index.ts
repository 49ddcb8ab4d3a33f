// Builds the package index of a nixpkgs source into PostgreSQL: `nix eval` of the
// stand-in's packageIndex, or `nix search --json <flake> ^` for a real nixpkgs.
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { db } from '@/lib/db/client';
import { packageIndex, packageIndexSources } from '@/lib/db/schema';
import { env } from '@/lib/env';
import { buildNetwork } from '@/lib/nix/build-network';
import { runNix } from '@/lib/nix/run';
import { requireBuildSandbox } from '@/lib/nix/sandbox-check';
import { knownSecrets, redactSecrets } from '@/lib/nix/secrets';
import type { NixpkgsSource } from './source';

const ZIndexEntry = z.object({ attr: z.string(), pname: z.string(), version: z.string().default(''), description: z.string().default('') });
const ZStandinIndex = z.array(ZIndexEntry);
// `nix search --json` (2.8 and later): {"legacyPackages.x86_64-linux.hello": {pname, version, description}}
const ZSearchOutput = z.record(z.string(), z.object({ pname: z.string(), version: z.string().default(''), description: z.string().nullable().default('') }));

export type IndexEntry = z.infer<typeof ZIndexEntry>;

export function parseSearchOutput(json: string): IndexEntry[] {
  const parsed = ZSearchOutput.parse(JSON.parse(json));
  return Object.entries(parsed).map(([key, value]) => ({
    attr: key.replace(/^(legacyPackages|packages)\.[^.]+\./, ''),
    pname: value.pname,
    version: value.version,
    description: value.description ?? '',
  }));
}

function firstError(stderr: string) {
  const at = stderr.indexOf('error:');
  return (at >= 0 ? stderr.slice(at) : stderr).trim().split('\n').slice(0, 6).join('\n') || 'nix failed without a message';
}

async function readIndex(source: NixpkgsSource): Promise<IndexEntry[]> {
  // Evaluating a nixpkgs may build (import from derivation): the same sandbox and network rules as builds.
  await requireBuildSandbox();
  const args = source.standin ? ['eval', '--json', `${source.flakeRef}#packageIndex`] : ['search', '--json', source.flakeRef, '^'];
  const result = await runNix('nix', args, { timeoutMs: 20 * 60 * 1000, network: buildNetwork(source) });
  if (result.code !== 0) throw new Error(`Indexing ${source.key} failed: ${firstError(result.stderr)}`);
  return source.standin ? ZStandinIndex.parse(JSON.parse(result.stdout)) : parseSearchOutput(result.stdout);
}

export async function buildPackageIndex(source: NixpkgsSource): Promise<number> {
  await db()
    .insert(packageIndexSources)
    .values({ source: source.key, status: 'building' })
    .onConflictDoUpdate({ target: packageIndexSources.source, set: { status: 'building', startedAt: new Date(), error: null } });
  try {
    const entries = await readIndex(source);
    await db().transaction(async (tx) => {
      await tx.delete(packageIndex).where(eq(packageIndex.source, source.key));
      for (let i = 0; i < entries.length; i += 1000) {
        await tx
          .insert(packageIndex)
          .values(entries.slice(i, i + 1000).map((e) => ({ source: source.key, ...e })))
          .onConflictDoNothing();
      }
      await tx
        .update(packageIndexSources)
        .set({ status: 'ready', packageCount: entries.length, finishedAt: new Date(), error: null })
        .where(eq(packageIndexSources.source, source.key));
    });
    return entries.length;
  } catch (error) {
    const message = redactSecrets(error instanceof Error ? error.message : String(error), knownSecrets(process.env, env().dataDir));
    await db().update(packageIndexSources).set({ status: 'failed', error: message.slice(0, 4000), finishedAt: new Date() }).where(eq(packageIndexSources.source, source.key));
    throw error;
  }
}
