import { z } from 'zod';
import { route } from '@/lib/api/route';
import { deleteWebhook } from '@/lib/notify/webhooks';

export const DELETE = route(
  { access: 'settings.manage', summary: 'Delete a webhook and its delivery log', params: z.object({ id: z.uuid() }), response: z.object({ id: z.uuid() }) },
  async ({ caller, params }) => deleteWebhook(caller, params.id),
);
