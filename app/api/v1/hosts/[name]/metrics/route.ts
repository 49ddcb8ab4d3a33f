import { z } from 'zod';
import { route } from '@/lib/api/route';
import { hostMetricsSeries } from '@/lib/health/samples';

export const GET = route(
  {
    access: 'authenticated',
    summary: "A host's load, memory, free store space and failed units over time (hourly, then the current hour's samples)",
    params: z.object({ name: z.string().max(63) }),
    host: 'name',
    query: z.object({ days: z.coerce.number().int().min(1).max(90).default(7) }),
  },
  async ({ host, query }) => ({ samples: await hostMetricsSeries(host.id, query.days) }),
);
