'use server';

import { z } from 'zod';
import { action } from '@/lib/api/action';
import { ALERTS_PAGE, createAlertRule, deleteAlertRule, ZAlertRuleForm } from '@/lib/health/alerts';

// The same permission as POST /api/v1/alert-rules and DELETE /api/v1/alert-rules/:id.
export const createAlertRuleAction = action({ access: 'settings.manage', input: ZAlertRuleForm, revalidate: [ALERTS_PAGE] }, async ({ caller, input }) => createAlertRule(caller, input));

export const deleteAlertRuleAction = action({ access: 'settings.manage', input: z.strictObject({ id: z.uuid() }), revalidate: [ALERTS_PAGE] }, async ({ caller, input }) =>
  deleteAlertRule(caller, input.id),
);
