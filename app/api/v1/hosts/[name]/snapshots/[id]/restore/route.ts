import { z } from 'zod';
import { route } from '@/lib/api/route';
import { ZHostName } from '@/lib/hosts/schemas';
import { requestRestore } from '@/lib/state/restore';

export const POST = route(
  {
    access: 'deployments.write',
    summary: "Restore one of the host's snapshots (audited; the agent snapshots what it replaces first and stops the unit's service around the restore). Follow it in GET …/state",
    params: z.object({ name: ZHostName, id: z.uuid() }),
    host: 'name',
    status: 202,
  },
  async ({ caller, host, params }) => requestRestore(caller, host, params.id),
);
