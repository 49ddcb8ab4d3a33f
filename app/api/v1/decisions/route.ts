import { route } from '@/lib/api/route';
import { pendingDecisions } from '@/lib/deployments/decide';

export const GET = route(
  { access: 'fleet.read', summary: 'Targets waiting for a decision on their pre-switch checks, with the items and their resolutions' },
  async ({ caller }) => ({ decisions: await pendingDecisions(caller) }),
);
