'use server';

import { z } from 'zod';
import { action } from '@/lib/api/action';
import { ZCreateWebhookForm } from '@/lib/notify/schemas';
import { createWebhook, deleteWebhook, sendTestEvent } from '@/lib/notify/webhooks';

const PAGE = ['/settings/webhooks'];
const ZWebhookRef = z.strictObject({ webhookId: z.uuid() });

export const createWebhookAction = action({ access: 'settings.manage', input: ZCreateWebhookForm, revalidate: PAGE }, async ({ caller, input }) => createWebhook(caller, input));

export const deleteWebhookAction = action({ access: 'settings.manage', input: ZWebhookRef, revalidate: PAGE }, async ({ caller, input }) => deleteWebhook(caller, input.webhookId));

export const sendTestWebhookAction = action({ access: 'settings.manage', input: ZWebhookRef, revalidate: PAGE }, async ({ caller, input }) =>
  sendTestEvent(caller, input.webhookId),
);
