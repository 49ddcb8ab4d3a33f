// Host config versions: append-only, each save a new version with author, time and
// message. Saves are optimistic: a save against an old base version is a 409 that
// carries both sides, never a silent overwrite. Text that does not parse is a 422
// and nothing is written.
import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import { recordAudit } from '@/lib/audit/record';
import { AppError } from '@/lib/api/errors';
import type { Caller } from '@/lib/auth/caller';
import { db, type Tx } from '@/lib/db/client';
import { ZHostSettings, type THostSettings } from '@/lib/db/json-types';
import { hostConfigs, hosts, users, type HostConfig } from '@/lib/db/schema';
import { assertKnownPackages } from '@/lib/packages/validate';
import type { TStateUnit } from '@/lib/state/schemas';
import { assertConfigManaged } from './deploy-only';
import type { HostInReach } from './reach';
import type { TConfigVersion, TSaveConfig } from './schemas';
import { assertNixSyntax } from './validate';

export function settingsOf(config: Pick<HostConfig, 'settings'>): THostSettings {
  return ZHostSettings.parse(config.settings);
}

function present(config: HostConfig, author: string | null): TConfigVersion {
  return {
    version: config.version,
    module: config.module,
    packages: settingsOf(config).packages,
    state: settingsOf(config).state,
    author,
    message: config.message,
    createdAt: config.createdAt.toISOString(),
  };
}

async function versionRow(tx: Tx, hostId: string, version?: number) {
  const [row] = await tx
    .select({ config: hostConfigs, author: users.email })
    .from(hostConfigs)
    .leftJoin(users, eq(users.id, hostConfigs.authorId))
    .where(version ? and(eq(hostConfigs.hostId, hostId), eq(hostConfigs.version, version)) : eq(hostConfigs.hostId, hostId))
    .orderBy(desc(hostConfigs.version))
    .limit(1);
  return row;
}

export async function getConfig(host: HostInReach, version?: number): Promise<TConfigVersion> {
  const row = await versionRow(db(), host.id, version);
  if (!row) throw new AppError('not_found', version ? `Host "${host.name}" has no version ${version}` : `Host "${host.name}" has no config`);
  return present(row.config, row.author);
}

export async function listVersions(host: HostInReach) {
  const rows = await db()
    .select({ version: hostConfigs.version, message: hostConfigs.message, createdAt: hostConfigs.createdAt, author: users.email, settings: hostConfigs.settings })
    .from(hostConfigs)
    .leftJoin(users, eq(users.id, hostConfigs.authorId))
    .where(eq(hostConfigs.hostId, host.id))
    .orderBy(desc(hostConfigs.version));
  return rows.map((r) => ({
    version: r.version,
    message: r.message,
    author: r.author,
    createdAt: r.createdAt.toISOString(),
    packageCount: settingsOf(r).packages.length,
  }));
}

/**
 * Appends a version. The host row is locked for the check-and-insert, so two saves on
 * the same base cannot both win. Returns the new version, or the latest one unchanged
 * when nothing differs (saving twice is not two versions).
 */
export async function appendVersion(
  tx: Tx,
  caller: Caller,
  host: HostInReach,
  change: {
    module?: string;
    packages?: string[];
    state?: TStateUnit[];
    /** Merged into the latest list (bulk additions), so there is no base version to conflict with. */
    addPackages?: string[];
    baseVersion?: number;
    message?: string;
    onBehalfOf?: string;
    action?: string;
  },
) {
  assertConfigManaged(host, 'edit');
  const [locked] = await tx.select({ id: hosts.id }).from(hosts).where(and(eq(hosts.id, host.id), isNull(hosts.retiredAt))).for('update');
  if (!locked) throw new AppError('not_found', `No host named "${host.name}"`);
  const latest = await versionRow(tx, host.id);
  if (!latest) throw new Error(`host ${host.id} has no config version`);
  const current = present(latest.config, latest.author);
  const module = change.module ?? current.module;
  const packages = change.packages ?? (change.addPackages ? [...new Set([...current.packages, ...change.addPackages])].sort() : current.packages);
  const state = change.state ?? current.state;
  const stateChanged = JSON.stringify(state) !== JSON.stringify(current.state);
  if (change.baseVersion !== undefined && change.baseVersion !== current.version) {
    throw new AppError('conflict', `Version ${current.version} was saved by ${current.author ?? 'someone'} after the version ${change.baseVersion} you edited`, {
      baseVersion: change.baseVersion,
      latest: current,
      yours: { module, packages, state },
    });
  }
  if (module === current.module && JSON.stringify(packages) === JSON.stringify(current.packages) && !stateChanged) {
    return { version: current.version, changed: false };
  }
  const version = current.version + 1;
  await tx.insert(hostConfigs).values({
    hostId: host.id,
    version,
    module,
    settings: { packages, state },
    authorId: caller.user.id,
    onBehalfOf: change.onBehalfOf ?? null,
    message: change.message ?? '',
  });
  const added = packages.filter((p) => !current.packages.includes(p));
  const removed = current.packages.filter((p) => !packages.includes(p));
  await recordAudit(tx, caller, {
    action: change.action ?? 'host.config.save',
    objectType: 'host',
    objectId: host.id,
    before: { version: current.version },
    after: {
      version,
      message: change.message ?? '',
      moduleChanged: module !== current.module,
      ...(added.length ? { packagesAdded: added } : {}),
      ...(removed.length ? { packagesRemoved: removed } : {}),
      ...(stateChanged ? { stateUnits: state.map((u) => u.name) } : {}),
    },
  });
  return { version, changed: true };
}

export async function saveConfig(caller: Caller, host: HostInReach, input: TSaveConfig) {
  // Parse before taking any lock: a rejected text costs nothing and writes nothing.
  if (input.module !== undefined) await assertNixSyntax(input.module);
  if (input.packages !== undefined) await assertKnownPackages(caller.org.id, input.packages);
  return db().transaction((tx) => appendVersion(tx, caller, host, input));
}

/** A revert is a new version with an old version's content, based on the latest. */
export async function revertConfig(caller: Caller, host: HostInReach, toVersion: number, baseVersion: number) {
  return db().transaction(async (tx) => {
    const target = await versionRow(tx, host.id, toVersion);
    if (!target) throw new AppError('not_found', `Host "${host.name}" has no version ${toVersion}`);
    return appendVersion(tx, caller, host, {
      module: target.config.module,
      packages: settingsOf(target.config).packages,
      state: settingsOf(target.config).state,
      baseVersion,
      message: `Revert to version ${toVersion}`,
      action: 'host.config.revert',
    });
  });
}

/** The package list of the host's latest config version. */
export async function latestPackages(hostId: string, tx: Tx = db()): Promise<string[]> {
  const row = await versionRow(tx, hostId);
  return row ? settingsOf(row.config).packages : [];
}

export async function latestVersionNumber(hostId: string): Promise<number> {
  const [row] = await db()
    .select({ v: sql<number>`coalesce(max(${hostConfigs.version}), 0)::int` })
    .from(hostConfigs)
    .where(eq(hostConfigs.hostId, hostId));
  return row?.v ?? 0;
}
