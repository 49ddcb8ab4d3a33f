// What goes into a host's system: the nixpkgs source, the shared modules for its
// tags, its own module and the module generated from its package list. The hash of
// all of it identifies a build: identical inputs are built once.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { desc, eq } from 'drizzle-orm';
import type { Tx } from '@/lib/db/client';
import type { TBuildInputs } from '@/lib/db/json-types';
import { fleetSettings, hostConfigs, type Host } from '@/lib/db/schema';
import { settingsOf } from '@/lib/hosts/configs';
import { generatedModule } from '@/lib/hosts/generated-module';
import { modulesForTags } from '@/lib/hosts/modules';
import { resolveNixpkgsSource } from '@/lib/packages/source';

export const BUILD_SYSTEM = 'x86_64-linux';

async function treeHash(dir: string): Promise<string> {
  const hash = createHash('sha256');
  const files = (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
  for (const file of files) hash.update(path.relative(dir, file)).update('\0').update(await readFile(file)).update('\0');
  return hash.digest('hex');
}

/** The host's system from its latest config, or with another package list (what a self-service request would make). */
export async function assembleInputs(tx: Tx, host: Host, override: { packages?: string[] } = {}): Promise<TBuildInputs> {
  const [settings] = await tx.select({ nixpkgs: fleetSettings.nixpkgsSource }).from(fleetSettings).where(eq(fleetSettings.orgId, host.orgId));
  const source = resolveNixpkgsSource(settings?.nixpkgs ?? null);
  const [config] = await tx.select().from(hostConfigs).where(eq(hostConfigs.hostId, host.id)).orderBy(desc(hostConfigs.version)).limit(1);
  if (!config) throw new Error(`host ${host.name} has no config`);
  const structured = settingsOf(config);
  const packages = override.packages ?? structured.packages;
  const modules = (await modulesForTags(host.orgId, host.tags)).map((m) => ({ name: m.name, version: m.version, text: m.text }));
  return {
    system: BUILD_SYSTEM,
    // The stand-in is a path in this repository: its content, not its path, identifies it.
    nixpkgs: { ...source, ...(source.standin ? { contentHash: await treeHash(source.flakeRef.replace(/^path:/, '')) } : {}) },
    configVersion: config.version,
    modules,
    hostModule: config.module,
    packages,
    generatedModule: generatedModule({ packages, state: structured.state }),
  };
}

export function inputHash(hostName: string, inputs: TBuildInputs): string {
  // configVersion is left out: a revert to identical text reuses the earlier build.
  const { configVersion: _ignored, ...material } = inputs;
  return createHash('sha256').update(JSON.stringify({ hostName, ...material })).digest('hex');
}
