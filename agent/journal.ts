// The activation journal: one file per deployment target in the state directory,
// written before each step, so a replayed `deploy` is never activated twice and an
// activation cut short by a crash or reboot is finished or rolled back on restart.
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ZCheckItem, ZDeploy } from '@/lib/agents/protocol';
import { ZTaken } from './snapshots/keeper';

export const ZJournalEntry = z.object({
  targetId: z.uuid(),
  deploymentId: z.uuid(),
  storePath: z.string(),
  action: z.enum(['switch', 'boot']),
  previous: z.string().nullable(),
  // 'checking' and 'needs-decision' come before the profile changes: an agent that stops
  // there resumes (a decision survives restarts and reboots) instead of rolling back.
  step: z.enum(['received', 'downloading', 'checking', 'needs-decision', 'checked', 'snapshotting', 'snapshotted', 'profile-set', 'switched', 'confirming', 'done']),
  outcome: z.enum(['succeeded', 'failed', 'rolled-back', 'cancelled']).nullable(),
  reason: z.string().nullable(),
  logsTail: z.string().default(''),
  currentSystem: z.string().nullable().default(null),
  reported: z.boolean().default(false),
  /**
   * The deploy message itself, so an activation waiting for a decision can resume after a restart.
   * Fields the protocol no longer has (an older agent's `healthChecks` argv) are dropped, never run.
   */
  deploy: z.object(ZDeploy.shape).nullable().default(null),
  checks: z.array(ZCheckItem).nullable().default(null),
  decision: z.record(z.string(), z.string()).nullable().default(null),
  /** Snapshots taken before this switch; a rollback restores those marked restoreOnRollback. */
  snapshots: z.array(ZTaken).default([]),
  updatedAt: z.string(),
});
export type JournalEntry = z.infer<typeof ZJournalEntry>;

export class Journal {
  constructor(private dir: string) {}

  private file(targetId: string) {
    return path.join(this.dir, 'journal', `${targetId}.json`);
  }

  async get(targetId: string): Promise<JournalEntry | null> {
    try {
      return ZJournalEntry.parse(JSON.parse(await fs.readFile(this.file(targetId), 'utf8')));
    } catch {
      return null;
    }
  }

  /** Atomic: a crash mid-write leaves the previous entry, never half of one. */
  async put(entry: Omit<z.input<typeof ZJournalEntry>, 'updatedAt'>) {
    const file = this.file(entry.targetId);
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    await fs.writeFile(tmp, JSON.stringify({ ...entry, updatedAt: new Date().toISOString() }, null, 2), { mode: 0o600 });
    await fs.rename(tmp, file);
  }

  async all(): Promise<JournalEntry[]> {
    const names = await fs.readdir(path.join(this.dir, 'journal')).catch(() => [] as string[]);
    const entries = await Promise.all(names.filter((n) => n.endsWith('.json')).map((n) => this.get(n.slice(0, -5))));
    return entries.filter((e): e is JournalEntry => e !== null);
  }
}
