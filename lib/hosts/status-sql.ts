// What each host status means, in SQL: the overview counts and the host list filter
// must agree, so both use these.
import { sql, type SQL } from 'drizzle-orm';
import { hosts } from '@/lib/db/schema';

export const HOST_STATUS_SQL = {
  online: sql`${hosts.online}`,
  offline: sql`not ${hosts.online} and ${hosts.lastSeen} is not null`,
  'never-seen': sql`${hosts.lastSeen} is null`,
  drifted: sql`${hosts.desiredSystem} is not null and ${hosts.desiredSystem} is distinct from ${hosts.currentSystem}`,
  'needs-reboot': sql`${hosts.bootedSystem} is not null and ${hosts.bootedSystem} is distinct from ${hosts.currentSystem}`,
} satisfies Record<string, SQL>;
