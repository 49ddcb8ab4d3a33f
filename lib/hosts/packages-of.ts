import { desc, eq } from 'drizzle-orm';
import type { Tx } from '@/lib/db/client';
import { hostConfigs } from '@/lib/db/schema';
import { settingsOf } from './configs';

/** The package list of a host's latest config version. */
export async function getLatestPackages(tx: Tx, hostId: string): Promise<string[]> {
  const [row] = await tx.select({ settings: hostConfigs.settings }).from(hostConfigs).where(eq(hostConfigs.hostId, hostId)).orderBy(desc(hostConfigs.version)).limit(1);
  return row ? settingsOf(row).packages : [];
}
