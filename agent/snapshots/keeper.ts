// What the agent does with declared state around a deployment (DESIGN.md §10): built-in
// checks before the switch (a PostgreSQL data directory the new server cannot open, not
// enough room for the snapshots), snapshots of the units their policy names, restores of
// the restore-on-rollback units when the switch is rolled back, and restores an operator
// asks for, each preceded by a snapshot of the data it replaces.
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { TCheckItem, TDeploy } from '@/lib/agents/protocol';
import { describeUnit, type TSnapshot, type TStateUnit } from '@/lib/agents/protocol';
import type { SystemPaths } from '../system';
import { ABORT, BUILTIN } from '../prechecks';
import { SnapshotStore } from './store';
import { declaredUnits, missingDirectory, restoreSnapshot, snapshotUnit, unitsToSnapshot } from './units';

/** Resolutions of the built-in state checks, carried out by the agent itself. */
export const SKIP_SNAPSHOTS = { id: 'skip-snapshots', label: 'Switch without taking snapshots' };
export const PROCEED = { id: 'proceed', label: 'Switch anyway' };

export const ZTaken = z.object({ snapshotId: z.uuid(), unit: z.string(), restoreOnRollback: z.boolean() });
export type Taken = z.infer<typeof ZTaken>;

const ZRestoreRecord = z.object({ restoreId: z.uuid(), status: z.enum(['running', 'succeeded', 'failed']), message: z.string() });
type RestoreRecord = z.infer<typeof ZRestoreRecord>;

const majorOf = (version: string) => version.trim().split('.')[0] ?? '';

export class StateKeeper {
  readonly store: SnapshotStore;

  constructor(
    private stateDir: string,
    private paths: SystemPaths,
    private log: (line: string) => void,
  ) {
    this.store = new SnapshotStore(stateDir);
  }

  /** Built-in checks on the state the new system will meet. */
  async checks(current: string | null, next: string): Promise<TCheckItem[]> {
    const items: TCheckItem[] = [];
    let units: TStateUnit[];
    try {
      units = await unitsToSnapshot(this.paths, current, next);
    } catch (error) {
      return [{ id: 'flotilla:state-declaration', check: BUILTIN, level: 'error', message: (error as Error).message, resolutions: [SKIP_SNAPSHOTS, ABORT] }];
    }
    for (const u of await declaredUnits(this.paths, next)) {
      if (u.kind !== 'postgresql' || !u.dataDir || !u.serverVersion) continue;
      const onDisk = (await fs.readFile(path.join(u.dataDir, 'PG_VERSION'), 'utf8').catch(() => null))?.trim();
      if (onDisk && majorOf(onDisk) !== majorOf(u.serverVersion)) {
        items.push({
          id: `flotilla:postgresql-version:${u.name}`,
          check: BUILTIN,
          level: 'error',
          message: `The data directory ${u.dataDir} was made by PostgreSQL ${onDisk}; the new system runs PostgreSQL ${u.serverVersion}, which cannot open it. Upgrade the data directory first (pg_upgrade, or a dump and restore into a new one), or keep the current system.`,
          resolutions: [{ id: PROCEED.id, label: 'Switch anyway (the data directory is upgraded by other means)' }, ABORT],
        });
      }
    }
    // Room for the snapshots, judged by the last snapshot of each unit (a first snapshot has nothing to go by).
    const known = await this.store.list();
    const need = units.reduce((sum, u) => sum + (known.find((s) => s.unit === u.name)?.size ?? 0), 0);
    // The snapshot store lives in the state directory, which exists even before the first snapshot.
    const stat = await fs.statfs(this.stateDir);
    const free = Number(stat.bavail) * Number(stat.bsize);
    if (need * 1.1 > free) {
      items.push({
        id: 'flotilla:snapshot-space',
        check: BUILTIN,
        level: 'error',
        message: `The snapshots of ${units.map((u) => u.name).join(', ')} need about ${Math.ceil(need / 1024 ** 2)} MiB; ${this.stateDir} has ${Math.floor(free / 1024 ** 2)} MiB free.`,
        resolutions: [SKIP_SNAPSHOTS, ABORT],
      });
    }
    return items;
  }

  /** Snapshots what the policies name before `deploy` switches away from `current`; a failed snapshot stops the switch. */
  async beforeSwitch(deploy: TDeploy, current: string | null, onUnit: (name: string) => void = () => {}): Promise<Taken[]> {
    const taken: Taken[] = [];
    for (const { declaredNow, ...u } of await unitsToSnapshot(this.paths, current, deploy.storePath)) {
      if (await missingDirectory(u)) {
        this.log(`not snapshotting ${u.name}: ${describeUnit(u)} does not exist yet`);
        continue;
      }
      this.log(`snapshotting ${u.name} before switching to ${deploy.storePath}`);
      onUnit(u.name);
      const meta = { generation: current, reason: 'pre-switch' as const, deploymentId: deploy.deploymentId, targetId: deploy.targetId };
      // Data the running system declares must be kept; a unit only the new system declares may not exist yet.
      const s = await snapshotUnit(this.store, u, meta).catch((error: Error) => {
        if (declaredNow) throw error;
        this.log(`not snapshotting ${u.name}, which only the new system declares: ${error.message}`);
        return null;
      });
      if (!s) continue;
      taken.push({ snapshotId: s.id, unit: u.name, restoreOnRollback: u.restoreOnRollback });
      const removed = await this.store.prune(u.name, u.keep);
      if (removed.length) this.log(`removed ${removed.length} old snapshot(s) of ${u.name}`);
    }
    return taken;
  }

  /** After a rollback: puts back the units that asked for it. Returns what happened, for the result's log. */
  async afterRollback(taken: Taken[]): Promise<string> {
    const lines: string[] = [];
    for (const t of taken.filter((x) => x.restoreOnRollback)) {
      const snapshot = await this.store.get(t.snapshotId);
      try {
        if (!snapshot) throw new Error('the snapshot is gone');
        await restoreSnapshot(this.store, snapshot, this.paths, this.log);
        lines.push(`restored ${t.unit} from snapshot ${t.snapshotId} (taken before the switch)`);
      } catch (error) {
        lines.push(`restoring ${t.unit} from snapshot ${t.snapshotId} FAILED: ${(error as Error).message}`);
      }
    }
    for (const line of lines) this.log(line);
    return lines.join('\n');
  }

  private recordFile(restoreId: string) {
    return path.join(this.stateDir, 'restores', `${restoreId}.json`);
  }

  private async record(r: RestoreRecord) {
    const file = this.recordFile(r.restoreId);
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await fs.writeFile(`${file}.tmp`, JSON.stringify(r), { mode: 0o600 });
    await fs.rename(`${file}.tmp`, file);
  }

  /**
   * A restore an operator asked for, once per restore id (a repeated request answers
   * with the recorded outcome). The data it replaces is snapshotted first, so a
   * mistaken restore can itself be undone.
   */
  async restoreRequested(restoreId: string, snapshotId: string, current: string | null, status: (s: 'running' | 'succeeded' | 'failed', message: string) => void) {
    const seen = ZRestoreRecord.safeParse(JSON.parse((await fs.readFile(this.recordFile(restoreId), 'utf8').catch(() => 'null')) as string));
    if (seen.success) {
      const r = seen.data.status === 'running' ? { ...seen.data, status: 'failed' as const, message: 'the agent stopped during the restore; check the unit before using it' } : seen.data;
      await this.record(r);
      return status(r.status, r.message);
    }
    const snapshot = await this.store.get(snapshotId);
    if (!snapshot) {
      await this.record({ restoreId, status: 'failed', message: `snapshot ${snapshotId} is not on this host (pruned or never taken here)` });
      return status('failed', `snapshot ${snapshotId} is not on this host (pruned or never taken here)`);
    }
    await this.record({ restoreId, status: 'running', message: '' });
    status('running', `snapshotting ${snapshot.unit} as it is now, then restoring the snapshot of ${snapshot.createdAt}`);
    let message: string;
    let ok = false;
    try {
      const before = await snapshotUnit(this.store, snapshot.definition, { generation: current, reason: 'pre-restore', deploymentId: null, targetId: null }).catch((e: Error) => {
        // Data that cannot be dumped (e.g. the directory is gone) must not keep a good snapshot from being restored.
        this.log(`no pre-restore snapshot of ${snapshot.unit}: ${e.message}`);
        return null;
      });
      await restoreSnapshot(this.store, snapshot, this.paths, this.log);
      message = `restored ${snapshot.unit} from the snapshot of ${snapshot.createdAt}${before ? `; what it replaced is snapshot ${before.id}` : ''}`;
      ok = true;
    } catch (error) {
      message = `restoring ${snapshot.unit} failed: ${(error as Error).message}`;
    }
    this.log(message);
    await this.record({ restoreId, status: ok ? 'succeeded' : 'failed', message });
    status(ok ? 'succeeded' : 'failed', message);
  }

  /** What the state report says: the units the running system declares and every snapshot here. */
  async inventory(current: string | null): Promise<{ units: TStateUnit[]; snapshots: TSnapshot[] }> {
    const units = await declaredUnits(this.paths, current).catch(() => []);
    const snapshots = (await this.store.list()).slice(0, 500).map(({ definition: _d, ...s }) => s);
    return { units, snapshots };
  }
}
