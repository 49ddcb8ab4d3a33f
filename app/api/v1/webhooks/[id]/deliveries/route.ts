import { z } from 'zod';
import { route } from '@/lib/api/route';
import { ZDelivery } from '@/lib/notify/schemas';
import { assertWebhook, listDeliveries } from '@/lib/notify/webhooks';

export const GET = route(
  {
    access: 'settings.manage',
    summary: 'The newest deliveries of a webhook, with status code and error',
    params: z.object({ id: z.uuid() }),
    query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) }),
    response: z.object({ deliveries: z.array(ZDelivery) }),
  },
  async ({ caller, params, query }) => {
    await assertWebhook(caller, params.id);
    return { deliveries: await listDeliveries(caller, { webhookId: params.id, limit: query.limit }) };
  },
);
