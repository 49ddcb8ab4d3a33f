import { z } from 'zod';
import { route } from '@/lib/api/route';
import { sendTestEvent } from '@/lib/notify/webhooks';

export const POST = route(
  {
    access: 'settings.manage',
    summary: 'Send a webhook.test event to this webhook (delivered by the worker; follow it in the deliveries)',
    params: z.object({ id: z.uuid() }),
    response: z.object({ deliveryId: z.uuid() }),
    status: 202,
  },
  async ({ caller, params }) => sendTestEvent(caller, params.id),
);
