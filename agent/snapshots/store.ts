// The host's snapshot store, in the agent's state directory: `blobs/<sha256>` holds the
// bytes (content-addressed: an unchanged directory is stored once however often it is
// snapshotted), `index/<id>.json` says which unit, when, for which deployment, and the
// unit as declared then, so a snapshot can be restored after its declaration changed.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ZSnapshot, ZStateUnit, type TSnapshot, type TStateUnit } from '@/lib/agents/protocol';

export const ZStoredSnapshot = ZSnapshot.extend({ definition: ZStateUnit });
export type StoredSnapshot = z.infer<typeof ZStoredSnapshot>;

export class SnapshotStore {
  readonly blobs: string;
  readonly index: string;
  readonly tmp: string;

  constructor(stateDir: string) {
    const root = path.join(stateDir, 'snapshots');
    this.blobs = path.join(root, 'blobs');
    this.index = path.join(root, 'index');
    this.tmp = path.join(root, 'tmp');
  }

  private async dirs() {
    for (const dir of [this.blobs, this.index, this.tmp]) await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  }

  /** At agent start: half-written blobs of a dump the previous run did not finish go. */
  async clearScratch() {
    await fs.rm(this.tmp, { recursive: true, force: true });
    await this.dirs();
  }

  /** A fresh file for a dump to write into; `commit` moves it to its address. */
  async scratch(): Promise<string> {
    await this.dirs();
    return path.join(this.tmp, randomUUID());
  }

  blobPath(hash: string) {
    return path.join(this.blobs, hash);
  }

  /** Moves a finished dump to `blobs/<hash>` (or drops it when those bytes are already there) and indexes it. */
  async commit(file: string, hash: string, size: number, meta: Omit<TSnapshot, 'id' | 'hash' | 'size' | 'kind' | 'unit' | 'createdAt'> & { definition: TStateUnit }): Promise<StoredSnapshot> {
    const blob = this.blobPath(hash);
    if (await fs.stat(blob).then(() => true, () => false)) await fs.rm(file, { force: true });
    else await fs.rename(file, blob);
    const snapshot: StoredSnapshot = { id: randomUUID(), unit: meta.definition.name, kind: meta.definition.kind, hash, size, createdAt: new Date().toISOString(), ...meta };
    const entry = path.join(this.index, `${snapshot.id}.json`);
    await fs.writeFile(`${entry}.tmp`, JSON.stringify(snapshot, null, 2), { mode: 0o600 });
    await fs.rename(`${entry}.tmp`, entry);
    return snapshot;
  }

  async get(id: string): Promise<StoredSnapshot | null> {
    if (!z.uuid().safeParse(id).success) return null;
    const text = await fs.readFile(path.join(this.index, `${id}.json`), 'utf8').catch(() => null);
    const parsed = text === null ? null : ZStoredSnapshot.safeParse(JSON.parse(text));
    return parsed?.success ? parsed.data : null;
  }

  /** Every snapshot, newest first. */
  async list(): Promise<StoredSnapshot[]> {
    const names = await fs.readdir(this.index).catch(() => [] as string[]);
    const all = await Promise.all(names.filter((n) => n.endsWith('.json')).map((n) => this.get(n.slice(0, -5))));
    return all.filter((s): s is StoredSnapshot => s !== null).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /** Keeps the newest `keep` snapshots of a unit, then deletes blobs no snapshot refers to. Returns what it removed. */
  async prune(unit: string, keep: number): Promise<StoredSnapshot[]> {
    const all = await this.list();
    const removed = all.filter((s) => s.unit === unit).slice(keep);
    for (const s of removed) await fs.rm(path.join(this.index, `${s.id}.json`), { force: true });
    const referenced = new Set(all.filter((s) => !removed.includes(s)).map((s) => s.hash));
    for (const name of await fs.readdir(this.blobs).catch(() => [] as string[])) {
      if (!referenced.has(name)) await fs.rm(path.join(this.blobs, name), { force: true });
    }
    return removed;
  }
}
