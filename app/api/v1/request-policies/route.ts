import { route } from '@/lib/api/route';
import { listPolicies, setPolicies } from '@/lib/requests/policy';
import { ZPolicies } from '@/lib/requests/schemas';

export const GET = route(
  { access: 'requests.review', summary: 'Package policies: pre-approved and never-allowed packages', response: ZPolicies },
  async ({ caller }) => ({ policies: await listPolicies(caller) }),
);

export const PUT = route(
  { access: 'settings.manage', summary: "Replace the organisation's package policies", body: ZPolicies, response: ZPolicies },
  async ({ caller, body }) => setPolicies(caller, body.policies),
);
