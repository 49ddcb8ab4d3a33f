import { route } from '@/lib/api/route';
import { requestStats } from '@/lib/requests/queries';
import { ZRequestStats } from '@/lib/requests/schemas';

export const GET = route(
  { access: 'fleet.read', summary: 'Request statistics: open, decided, approval rate, median time to a decision and to live', response: ZRequestStats },
  async ({ caller }) => requestStats(caller),
);
