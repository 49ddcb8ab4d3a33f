import { z } from 'zod';
import { route } from '@/lib/api/route';
import { SSE_HEADERS } from '@/lib/api/sse';
import { hostEvents } from '@/lib/hosts/events';

export const dynamic = 'force-dynamic';

export const GET = route(
  { access: 'authenticated', summary: "Live host status as Server-Sent Events (presence, systems, newest activations)", params: z.object({ name: z.string().max(63) }), host: 'name' },
  async ({ host, req }) => new Response(hostEvents(host.id, req.signal), { headers: SSE_HEADERS }),
);
