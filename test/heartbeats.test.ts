// Heartbeats from many agents become one statement a flush.
import { eq, inArray } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { HeartbeatWriter } from '@/lib/agents/heartbeats';
import { db } from '@/lib/db/client';
import { hostMetrics, hosts } from '@/lib/db/schema';
import { makeOrg } from './fixtures';

describe('HeartbeatWriter', () => {
  it('writes the latest heartbeat of every host in one statement', async () => {
    const fx = await makeOrg();
    const rows = await db()
      .insert(hosts)
      .values(Array.from({ length: 50 }, (_, i) => ({ orgId: fx.org.id, name: `hb-${i}` })))
      .returning({ id: hosts.id });
    const writer = new HeartbeatWriter(60_000);
    const system = `/nix/store/${'a'.repeat(32)}-nixos-system-hb`;
    for (let round = 0; round < 5; round++) {
      for (const { id } of rows) {
        writer.add(id, {
          type: 'heartbeat',
          id: `${round}`,
          uptimeSeconds: 100 + round,
          load1: 0.5,
          memUsedBytes: 1_000,
          memTotalBytes: 4_000,
          storeFreeBytes: 10_000,
          failedUnits: round === 4 ? ['nginx.service'] : [],
          currentSystem: system,
          bootedSystem: system,
          // The agent's NixOS rule, last word wins.
          needsReboot: round === 4 && id === rows[0]?.id,
          nixosVersion: '24.11.standin',
        });
      }
    }
    await writer.flush();
    expect(writer.flushes).toBe(1);
    const updated = await db().select().from(hosts).where(inArray(hosts.id, rows.map((r) => r.id)));
    expect(updated.every((h) => h.online && h.currentSystem === system)).toBe(true);
    expect(updated[0]?.lastHealth).toMatchObject({ uptimeSeconds: 104, failedUnits: ['nginx.service'] });
    expect(updated.filter((h) => h.needsReboot).map((h) => h.id)).toEqual([rows[0]?.id]);
    const samples = await db().select().from(hostMetrics).where(eq(hostMetrics.hostId, rows[0]?.id as string));
    expect(samples).toHaveLength(1);
    expect(samples[0]).toMatchObject({ uptimeSeconds: 104, failedUnits: 1 });
    await writer.flush();
    expect(writer.flushes).toBe(1);
  });

  it('a heartbeat written after its socket closed does not bring the host back online', async () => {
    const fx = await makeOrg();
    const [host] = await db().insert(hosts).values({ orgId: fx.org.id, name: 'hb-closed', online: true, lastSeen: new Date(Date.now() - 5_000) }).returning();
    const writer = new HeartbeatWriter(60_000);
    const lastWord = Date.now();
    const heartbeat = { type: 'heartbeat' as const, id: 'late', uptimeSeconds: 1, load1: 0, memUsedBytes: 1, memTotalBytes: 2, storeFreeBytes: 3, failedUnits: [], currentSystem: null, bootedSystem: null, nixosVersion: null };
    writer.add(host!.id, heartbeat, lastWord);
    // The gateway's close handler, before the buffered heartbeat is flushed.
    await db().update(hosts).set({ online: false, lastSeen: new Date(lastWord) }).where(eq(hosts.id, host!.id));
    await writer.flush();
    expect((await db().select().from(hosts).where(eq(hosts.id, host!.id)))[0]?.online).toBe(false);
    // A heartbeat after that (the host came back) does.
    writer.add(host!.id, heartbeat, lastWord + 1_000);
    await writer.flush();
    expect((await db().select().from(hosts).where(eq(hosts.id, host!.id)))[0]?.online).toBe(true);
  });
});
