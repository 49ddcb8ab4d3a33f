import { z } from 'zod';
import { route } from '@/lib/api/route';
import { SSE_HEADERS } from '@/lib/api/sse';
import { getRequest, requestEvents } from '@/lib/requests/queries';

export const dynamic = 'force-dynamic';

export const GET = route(
  { access: 'authenticated', summary: 'The request as it moves (approved, building, deploying, live) as Server-Sent Events', params: z.object({ id: z.uuid() }) },
  async ({ caller, params, req }) => {
    await getRequest(caller, params.id);
    return new Response(requestEvents(caller, params.id, req.signal), { headers: SSE_HEADERS });
  },
);
