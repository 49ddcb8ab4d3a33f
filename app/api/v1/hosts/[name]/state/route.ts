import { z } from 'zod';
import { route } from '@/lib/api/route';
import { hostState } from '@/lib/state/snapshots';

export const GET = route(
  {
    access: 'authenticated',
    summary: "A host's declared state units, the snapshots its agent holds (newest first) and its latest restores",
    params: z.object({ name: z.string().max(63) }),
  },
  async ({ caller, params }) => hostState(caller, params.name),
);
