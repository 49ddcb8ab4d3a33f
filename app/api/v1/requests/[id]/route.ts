import { z } from 'zod';
import { route } from '@/lib/api/route';
import { getRequest } from '@/lib/requests/queries';
import { ZRequestView } from '@/lib/requests/schemas';

export const GET = route(
  {
    access: 'authenticated',
    summary: 'A request with its comments and the progress of its deployment',
    params: z.object({ id: z.uuid() }),
    response: ZRequestView.extend({ progress: z.object({ deployment: z.string().nullable(), phase: z.string().nullable() }) }),
  },
  async ({ caller, params }) => getRequest(caller, params.id),
);
