import { z } from 'zod';
import { route } from '@/lib/api/route';
import { ZCreatedWebhook, ZCreateWebhook, ZWebhookSummary } from '@/lib/notify/schemas';
import { createWebhook, listWebhooks } from '@/lib/notify/webhooks';

export const GET = route(
  { access: 'settings.manage', summary: "List the organisation's webhooks", response: z.object({ webhooks: z.array(ZWebhookSummary) }) },
  async ({ caller }) => ({ webhooks: await listWebhooks(caller) }),
);

export const POST = route(
  {
    access: 'settings.manage',
    summary: 'Create a webhook (the signing secret is in this response only)',
    body: ZCreateWebhook,
    response: ZCreatedWebhook,
    status: 201,
  },
  async ({ caller, body }) => createWebhook(caller, body),
);
