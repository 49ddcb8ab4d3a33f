import { z } from 'zod';
import { route } from '@/lib/api/route';
import { deleteAlertRule } from '@/lib/health/alerts';

export const DELETE = route({ access: 'settings.manage', summary: 'Delete an alert rule (its history goes with it)', params: z.object({ id: z.uuid() }) }, async ({ caller, params }) =>
  deleteAlertRule(caller, params.id),
);
