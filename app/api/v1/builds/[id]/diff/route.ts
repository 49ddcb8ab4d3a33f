import { z } from 'zod';
import { route } from '@/lib/api/route';
import { diffBuilds } from '@/lib/builds/queries';
import { ZClosureDiff } from '@/lib/db/json-types';

export const GET = route(
  {
    access: 'authenticated',
    summary: 'The closure diff between this build and another build (?against=<build id>)',
    params: z.object({ id: z.uuid() }),
    query: z.object({ against: z.uuid() }),
    response: ZClosureDiff.extend({ from: z.uuid(), to: z.uuid() }),
  },
  async ({ caller, params, query }) => diffBuilds(caller, query.against, params.id),
);
