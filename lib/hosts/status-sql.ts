// What each host status means, in SQL: the overview counts, the host list filters, the
// alerts and the fleet samples must agree, so all of them use these.
import { sql, type SQL } from 'drizzle-orm';
import { hosts } from '@/lib/db/schema';
import { FAILED_TARGET_PHASES } from '@/lib/db/statuses';
import type { THostStatusFilter } from './schemas';

/** Free space on the Nix store below which a host counts as low on disk. */
export const LOW_DISK_BYTES = 5 * 1024 ** 3;
/** A host whose nixpkgs is older than this counts as outdated. */
export const OUTDATED_DAYS = 90;

const storeFree = sql`(${hosts.lastHealth}->>'storeFreeBytes')::bigint`;
const failedUnits = sql`coalesce(jsonb_array_length(case when jsonb_typeof(${hosts.lastHealth}->'failedUnits') = 'array' then ${hosts.lastHealth}->'failedUnits' end), 0)`;

export const HOST_STATUS_SQL = {
  online: sql`${hosts.online}`,
  offline: sql`not ${hosts.online} and ${hosts.lastSeen} is not null`,
  'never-seen': sql`${hosts.lastSeen} is null`,
  'up-to-date': sql`${hosts.currentSystem} is not null and (${hosts.desiredSystem} is null or ${hosts.desiredSystem} = ${hosts.currentSystem})`,
  drifted: sql`${hosts.desiredSystem} is not null and ${hosts.desiredSystem} is distinct from ${hosts.currentSystem}`,
  failed: sql`${hosts.lastDeployPhase} in ${FAILED_TARGET_PHASES}`,
  'needs-reboot': sql`${hosts.needsReboot}`,
  'low-disk': sql`${storeFree} < ${LOW_DISK_BYTES}`,
  'units-failed': sql`${failedUnits} > 0`,
  outdated: sql`${hosts.nixpkgsDate} < current_date - ${OUTDATED_DAYS}::int`,
} satisfies Record<THostStatusFilter, SQL>;

export const STORE_FREE_SQL = storeFree;
export const FAILED_UNITS_SQL = failedUnits;
