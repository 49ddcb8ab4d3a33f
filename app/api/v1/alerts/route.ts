import { route } from '@/lib/api/route';
import { recentFirings } from '@/lib/health/alerts';

export const GET = route({ access: 'fleet.read', summary: 'Recent alerts, open and resolved' }, async ({ caller }) => ({ alerts: await recentFirings(caller) }));
