import { z } from 'zod';
import { route } from '@/lib/api/route';
import { markRead } from '@/lib/notify/inbox';
import { ZMarkRead } from '@/lib/notify/people-schemas';

export const POST = route(
  {
    access: 'authenticated',
    summary: "Mark the caller's notifications read: the listed ids, or all of them when `ids` is absent ({} marks all)",
    body: ZMarkRead,
    response: z.object({ marked: z.number().int().min(0) }),
  },
  async ({ caller, body }) => markRead(caller, body.ids ?? 'all'),
);
