import { z } from 'zod';
import { route } from '@/lib/api/route';
import { getBuild, ZBuildSummary } from '@/lib/builds/queries';

export const GET = route(
  {
    access: 'authenticated',
    summary: 'A build: status, store path, closure size, closure diff, and where its log is',
    params: z.object({ id: z.uuid() }),
    response: ZBuildSummary.extend({ diff: z.unknown(), logUrl: z.string(), eventsUrl: z.string() }),
  },
  async ({ caller, params }) => {
    const { log: _log, inputs: _inputs, ...build } = await getBuild(caller, params.id);
    return { ...build, logUrl: `/api/v1/builds/${build.id}/log`, eventsUrl: `/api/v1/builds/${build.id}/events` };
  },
);
