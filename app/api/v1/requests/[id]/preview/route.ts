import { z } from 'zod';
import { route } from '@/lib/api/route';
import { PREVIEW_ACCESS, previewRequest } from '@/lib/requests/review';

export const POST = route(
  {
    access: PREVIEW_ACCESS,
    summary: "The exact change a request would make and a build of it, for its closure diff (built once, then reused by the approval)",
    params: z.object({ id: z.uuid() }),
    response: z.object({ before: z.array(z.string()), after: z.array(z.string()), buildId: z.uuid().nullable() }),
  },
  async ({ caller, params }) => previewRequest(caller, params.id),
);
