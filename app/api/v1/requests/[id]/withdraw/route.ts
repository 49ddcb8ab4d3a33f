import { z } from 'zod';
import { route } from '@/lib/api/route';
import { withdrawRequest } from '@/lib/requests/review';

export const POST = route(
  {
    access: 'requests.create',
    summary: 'Take back your request before it is decided',
    params: z.object({ id: z.uuid() }),
    response: z.object({ id: z.uuid(), status: z.string() }),
  },
  async ({ caller, params }) => withdrawRequest(caller, params.id),
);
