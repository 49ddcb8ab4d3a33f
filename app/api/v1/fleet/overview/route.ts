import { route } from '@/lib/api/route';
import { fleetOverview } from '@/lib/health/overview';

export const GET = route(
  { access: 'fleet.read', summary: 'Fleet health: hosts by status, agent versions, nixpkgs ages, the fleet over 30 days, deployments per day' },
  async ({ caller }) => fleetOverview(caller),
);
