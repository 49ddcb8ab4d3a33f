import { route } from '@/lib/api/route';
import { createAlertRule, listAlertRules, ZAlertRule } from '@/lib/health/alerts';

export const GET = route({ access: 'fleet.read', summary: 'Alert rules and how many alerts each has open' }, async ({ caller }) => ({ rules: await listAlertRules(caller) }));

export const POST = route(
  { access: 'settings.manage', summary: 'Add an alert rule (host offline for N minutes, deployment failed, store below N MiB, failed units); alerts go to webhooks and operators', body: ZAlertRule, status: 201 },
  async ({ caller, body }) => createAlertRule(caller, body),
);
