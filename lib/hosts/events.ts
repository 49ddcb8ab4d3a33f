// Live host status for the host page: presence, systems and the newest activations,
// sent whenever they change.
import { desc, eq } from 'drizzle-orm';
import { typedEventStream } from '@/lib/api/sse';
import { ZHostStream, type THostSnapshot } from '@/lib/api/streams';
import { db } from '@/lib/db/client';
import { deploymentTargets, hosts } from '@/lib/db/schema';

const iso = (d: Date | null) => d?.toISOString() ?? null;

export function hostEvents(hostId: string, signal: AbortSignal) {
  let last = '';
  return typedEventStream(
    ZHostStream,
    async () => {
      const [host] = await db()
        .select({
          online: hosts.online,
          lastSeen: hosts.lastSeen,
          currentSystem: hosts.currentSystem,
          bootedSystem: hosts.bootedSystem,
          desiredSystem: hosts.desiredSystem,
          agentVersion: hosts.agentVersion,
          enrolledAt: hosts.enrolledAt,
          retiredAt: hosts.retiredAt,
        })
        .from(hosts)
        .where(eq(hosts.id, hostId));
      if (!host || host.retiredAt) return { events: [], done: true };
      const activations = await db()
        .select({ id: deploymentTargets.id, phase: deploymentTargets.phase, updatedAt: deploymentTargets.updatedAt })
        .from(deploymentTargets)
        .where(eq(deploymentTargets.hostId, hostId))
        .orderBy(desc(deploymentTargets.updatedAt))
        .limit(5);
      const { retiredAt: _retired, ...live } = host;
      const data: THostSnapshot = {
        ...live,
        lastSeen: iso(host.lastSeen),
        enrolledAt: iso(host.enrolledAt),
        activations: activations.map((a) => ({ ...a, updatedAt: a.updatedAt.toISOString() })),
      };
      const snapshot = JSON.stringify(data);
      if (snapshot === last) return { events: [], done: false };
      last = snapshot;
      return { events: [{ event: 'host' as const, data }], done: false };
    },
    signal,
    2_000,
  );
}
