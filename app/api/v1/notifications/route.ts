import { z } from 'zod';
import { route } from '@/lib/api/route';
import { SSE_HEADERS } from '@/lib/api/sse';
import { MAX_LIST, notificationStream, notificationSummary } from '@/lib/notify/inbox';
import { ZNotificationList } from '@/lib/notify/people-schemas';

export const dynamic = 'force-dynamic';

export const GET = route(
  {
    access: 'authenticated',
    summary:
      "The caller's notifications in this organisation, newest first, with the unread count (?unread=true: unread only; ?before=<id>: older ones). " +
      'With Accept: text/event-stream, a Server-Sent Events stream instead: a `notifications` event with the newest 10 and the count whenever they change.',
    query: z.object({
      unread: z.enum(['true', 'false']).default('false'),
      limit: z.coerce.number().int().min(1).max(MAX_LIST).default(50),
      before: z.uuid().optional(),
    }),
    response: ZNotificationList,
  },
  async ({ caller, query, req }) => {
    // The bell's EventSource asks for the stream on the same path; everything else gets JSON.
    if ((req.headers.get('accept') ?? '').includes('text/event-stream')) {
      return new Response(notificationStream(caller, req.signal), { headers: SSE_HEADERS });
    }
    return notificationSummary(caller, { unreadOnly: query.unread === 'true', limit: query.limit, before: query.before });
  },
);
