import { z } from 'zod';
import { route } from '@/lib/api/route';
import { listBuilds, ZBuildSummary } from '@/lib/builds/queries';

export const GET = route(
  {
    access: 'fleet.read',
    summary: 'Recent builds across the fleet',
    query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }),
    response: z.object({ builds: z.array(ZBuildSummary) }),
  },
  async ({ caller, query }) => ({ builds: await listBuilds(caller, { limit: query.limit }) }),
);
