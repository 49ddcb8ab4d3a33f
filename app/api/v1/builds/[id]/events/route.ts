import { z } from 'zod';
import { route } from '@/lib/api/route';
import { SSE_HEADERS } from '@/lib/api/sse';
import { buildEvents } from '@/lib/builds/events';
import { getBuild } from '@/lib/builds/queries';

export const dynamic = 'force-dynamic';

export const GET = route(
  { access: 'authenticated', summary: 'Live build progress and log as Server-Sent Events (status, progress, log chunks)', params: z.object({ id: z.uuid() }) },
  async ({ caller, params, req }) => {
    await getBuild(caller, params.id);
    return new Response(buildEvents(params.id, req.signal), { headers: SSE_HEADERS });
  },
);
