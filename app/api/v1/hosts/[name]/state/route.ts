import { z } from 'zod';
import { route } from '@/lib/api/route';
import { ZHostName } from '@/lib/hosts/schemas';
import { hostState } from '@/lib/state/snapshots';

export const GET = route(
  {
    access: 'authenticated',
    summary: "A host's declared state units, the snapshots its agent holds (newest first) and its latest restores",
    params: z.object({ name: ZHostName }),
    host: 'name',
  },
  async ({ host }) => hostState(host),
);
