import { z } from 'zod';
import { route } from '@/lib/api/route';
import { diffBuilds } from '@/lib/builds/queries';

export const GET = route(
  {
    access: 'authenticated',
    summary: 'The closure diff between this build and another build (?against=<build id>)',
    params: z.object({ id: z.uuid() }),
    query: z.object({ against: z.uuid() }),
    response: z.object({
      from: z.uuid(),
      to: z.uuid(),
      added: z.array(z.object({ pname: z.string(), version: z.string() })),
      removed: z.array(z.object({ pname: z.string(), version: z.string() })),
      changed: z.array(z.object({ pname: z.string(), from: z.string(), to: z.string() })),
      sizeBefore: z.number(),
      sizeAfter: z.number(),
      sizeDelta: z.number(),
    }),
  },
  async ({ caller, params, query }) => diffBuilds(caller, query.against, params.id),
);
