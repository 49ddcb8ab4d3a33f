'use server';

// The State tab's side of lib/state/restore.ts: the same operation as
// POST /api/v1/hosts/:name/snapshots/:id/restore, guarded the same way.
import { z } from 'zod';
import { action } from '@/lib/api/action';
import { ZHostName } from '@/lib/hosts/schemas';
import { requestRestore } from '@/lib/state/restore';

export const restoreSnapshotAction = action(
  { access: 'deployments.write', input: z.strictObject({ host: ZHostName, snapshotId: z.uuid() }), host: 'host' },
  async ({ caller, host, input }) => requestRestore(caller, host, input.snapshotId),
);
