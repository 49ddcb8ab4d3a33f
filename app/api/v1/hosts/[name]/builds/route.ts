import { z } from 'zod';
import { route } from '@/lib/api/route';
import { listBuilds, ZBuildSummary } from '@/lib/builds/queries';
import { requestBuild } from '@/lib/builds/request-build';

const params = z.object({ name: z.string().max(63) });

export const POST = route(
  {
    access: 'builds.run',
    summary: "Build the host's current config (identical inputs reuse the earlier build)",
    params,
    host: 'name',
    status: 202,
    response: z.object({ buildId: z.uuid(), reused: z.boolean(), status: z.string() }),
  },
  async ({ caller, host }) => requestBuild(caller, host),
);

export const GET = route(
  { access: 'authenticated', summary: "A host's builds, newest first", params, host: 'name', response: z.object({ builds: z.array(ZBuildSummary) }) },
  async ({ caller, host }) => ({ builds: await listBuilds(caller, { host }) }),
);
