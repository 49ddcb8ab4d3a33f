// Heartbeats from many agents become one transaction a flush, and only the ones that say
// something new are written; presence follows the gateway that holds the socket.
import { eq, inArray, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { HeartbeatWriter } from '@/lib/agents/heartbeats';
import { GatewayPresence, GATEWAY_STALE_SECONDS, sweepPresence } from '@/lib/agents/presence';
import type { THeartbeat } from '@/lib/agents/protocol';
import { db } from '@/lib/db/client';
import { agentGateways, hostMetrics, hosts } from '@/lib/db/schema';
import { makeOrg } from './fixtures';

const system = `/nix/store/${'a'.repeat(32)}-nixos-system-hb`;
const beat = (over: Partial<THeartbeat> = {}): THeartbeat => ({
  type: 'heartbeat',
  id: 'x',
  uptimeSeconds: 100,
  load1: 0.5,
  memUsedBytes: 1_000,
  memTotalBytes: 4_000,
  storeFreeBytes: 10 * 1024 ** 3,
  failedUnits: [],
  currentSystem: system,
  bootedSystem: system,
  nixosVersion: '24.11.standin',
  ...over,
});

async function someHosts(n: number, online = false) {
  const fx = await makeOrg();
  return db()
    .insert(hosts)
    .values(Array.from({ length: n }, (_, i) => ({ orgId: fx.org.id, name: `hb-${i}`, online })))
    .returning({ id: hosts.id });
}

describe('HeartbeatWriter', () => {
  it('writes the latest heartbeat of every host in one transaction', async () => {
    const rows = await someHosts(50);
    const writer = new HeartbeatWriter(60_000);
    for (let round = 0; round < 5; round++) {
      for (const { id } of rows) {
        // The agent's NixOS rule, last word wins.
        writer.add(id, beat({ id: `${round}`, uptimeSeconds: 100 + round, failedUnits: round === 4 ? ['nginx.service'] : [], needsReboot: round === 4 && id === rows[0]?.id }));
      }
    }
    await writer.flush();
    expect(writer.flushes).toBe(1);
    const updated = await db().select().from(hosts).where(inArray(hosts.id, rows.map((r) => r.id)));
    expect(updated.every((h) => h.currentSystem === system && h.lastSeen !== null)).toBe(true);
    // Being heard from is not being online: that is the gateway's to say.
    expect(updated.some((h) => h.online)).toBe(false);
    expect(updated.find((h) => h.id === rows[0]?.id)?.lastHealth).toMatchObject({ uptimeSeconds: 104, failedUnits: ['nginx.service'] });
    expect(updated.filter((h) => h.needsReboot).map((h) => h.id)).toEqual([rows[0]?.id]);
    const samples = await db().select().from(hostMetrics).where(eq(hostMetrics.hostId, rows[0]?.id as string));
    expect(samples).toHaveLength(1);
    expect(samples[0]).toMatchObject({ uptimeSeconds: 104, failedUnits: 1 });
    await writer.flush();
    expect(writer.flushes).toBe(1);
  });

  it('writes nothing for a heartbeat that says nothing new, and writes a change at once', async () => {
    const [host] = await someHosts(1);
    const id = host?.id as string;
    const writer = new HeartbeatWriter(60_000);
    writer.add(id, beat());
    await writer.flush();
    const first = (await db().select().from(hosts).where(eq(hosts.id, id)))[0];
    // Vitals move every heartbeat; they wait for the next sample.
    for (let i = 0; i < 10; i++) {
      writer.add(id, beat({ uptimeSeconds: 115 + i * 15, load1: Math.random(), memUsedBytes: 1_000 + i }));
      await writer.flush();
    }
    expect(writer.flushes).toBe(1);
    expect(writer.skipped).toBe(10);
    const quiet = (await db().select().from(hosts).where(eq(hosts.id, id)))[0];
    expect(quiet?.lastSeen).toEqual(first?.lastSeen);
    // A failed unit is news.
    writer.add(id, beat({ failedUnits: ['sshd.service'] }));
    await writer.flush();
    expect(writer.flushes).toBe(2);
    expect((await db().select().from(hosts).where(eq(hosts.id, id)))[0]?.lastHealth?.failedUnits).toEqual(['sshd.service']);
    // A new connection starts with a write.
    writer.forget(id);
    writer.add(id, beat({ failedUnits: ['sshd.service'] }));
    await writer.flush();
    expect(writer.flushes).toBe(3);
  });

  it('samples every host again after the sample interval', async () => {
    const [host] = await someHosts(1);
    const id = host?.id as string;
    const writer = new HeartbeatWriter(60_000, 50);
    writer.add(id, beat());
    await writer.flush();
    await new Promise((r) => setTimeout(r, 80));
    writer.add(id, beat({ uptimeSeconds: 200 }));
    await writer.flush();
    expect(writer.flushes).toBe(2);
    expect(await db().select().from(hostMetrics).where(eq(hostMetrics.hostId, id))).toHaveLength(2);
  });

  it('does not put back an older system than a result recorded meanwhile', async () => {
    const [host] = await someHosts(1);
    const id = host?.id as string;
    const writer = new HeartbeatWriter(60_000);
    const sentAt = Date.now();
    writer.add(id, beat(), sentAt);
    const newer = `/nix/store/${'b'.repeat(32)}-nixos-system-hb`;
    await db().update(hosts).set({ currentSystem: newer, lastSeen: new Date(sentAt + 1_000) }).where(eq(hosts.id, id));
    await writer.flush();
    expect((await db().select().from(hosts).where(eq(hosts.id, id)))[0]?.currentSystem).toBe(newer);
  });

  it('keeps a batch whose write failed for the next flush', async () => {
    const [host] = await someHosts(1);
    const id = host?.id as string;
    const writer = new HeartbeatWriter(60_000);
    let release = () => {};
    const held = new Promise<void>((r) => (release = r));
    // Another transaction holds the host's row for longer than presence waits for a lock.
    const blocker = db().transaction(async (tx) => {
      await tx.execute(sql`select 1 from hosts where id = ${id} for update`);
      await held;
    });
    await new Promise((r) => setTimeout(r, 100));
    writer.add(id, beat({ failedUnits: ['a.service'] }));
    // Presence's connections give up on a lock after PRESENCE_LOCK_TIMEOUT_MS.
    await writer.flush();
    expect(writer.flushes).toBe(0);
    release();
    await blocker;
    // Nothing lost: the next flush writes it.
    await writer.flush();
    expect(writer.flushes).toBe(1);
    expect((await db().select().from(hosts).where(eq(hosts.id, id)))[0]?.lastHealth?.failedUnits).toEqual(['a.service']);
  });
});

describe('gateway presence', () => {
  it('a gateway owns its hosts: reconcile puts back online what it holds, and a dead gateway’s hosts go offline', async () => {
    const rows = await someHosts(3);
    const ids = rows.map((r) => r.id);
    let held = ids.slice(0, 2);
    const presence = new GatewayPresence(() => held, (id) => held.includes(id), () => {});
    await presence.start();
    await presence.reconcile();
    const state = async () => Object.fromEntries((await db().select().from(hosts).where(inArray(hosts.id, ids))).map((h) => [h.id, h.online]));
    expect(await state()).toEqual({ [ids[0] as string]: true, [ids[1] as string]: true, [ids[2] as string]: false });
    // A live gateway's hosts survive a sweep, however long since their last write.
    await db().update(hosts).set({ lastSeen: new Date(Date.now() - 3_600_000) }).where(inArray(hosts.id, ids));
    expect(await sweepPresence()).toBe(0);
    // A disconnect whose write was lost is mended by the next reconcile.
    held = ids.slice(0, 1);
    await presence.reconcile();
    expect((await state())[ids[1] as string]).toBe(false);
    // The gateway stops beating (killed): its hosts go offline at the sweep, with last_seen its last beat.
    await db()
      .update(agentGateways)
      .set({ aliveAt: new Date(Date.now() - (GATEWAY_STALE_SECONDS + 5) * 1000) })
      .where(eq(agentGateways.id, presence.id));
    expect(await sweepPresence()).toBe(1);
    const [gone] = await db().select().from(hosts).where(eq(hosts.id, ids[0] as string));
    expect(gone).toMatchObject({ online: false, gatewayId: null });
    expect(Date.now() - (gone?.lastSeen?.getTime() ?? 0)).toBeGreaterThan(GATEWAY_STALE_SECONDS * 1000);
    await presence.stop();
  });

  it('keeps beating and reconciling on its own timer', async () => {
    const [host] = await someHosts(1);
    const id = host?.id as string;
    const presence = new GatewayPresence(() => [id], (h) => h === id, () => {}, { beatMs: 20, reconcileMs: 60 });
    await presence.start();
    // Set offline behind its back (a sweep while it was cut off): its own reconcile puts it back.
    await db().update(hosts).set({ online: false, gatewayId: null }).where(eq(hosts.id, id));
    await new Promise((r) => setTimeout(r, 400));
    expect((await db().select().from(hosts).where(eq(hosts.id, id)))[0]).toMatchObject({ online: true, gatewayId: presence.id });
    const [me] = await db().select().from(agentGateways).where(eq(agentGateways.id, presence.id));
    expect(Date.now() - (me?.aliveAt.getTime() ?? 0)).toBeLessThan(200);
    // Swept as dead (its row gone): it registers again at its next beat.
    await db().delete(agentGateways).where(eq(agentGateways.id, presence.id));
    await new Promise((r) => setTimeout(r, 100));
    expect(await db().select().from(agentGateways).where(eq(agentGateways.id, presence.id))).toHaveLength(1);
    await presence.stop();
  });

  it('disconnects that come together are written together', async () => {
    const rows = await someHosts(200);
    const presence = new GatewayPresence(() => [], () => false, () => {});
    await presence.start();
    await db().update(hosts).set({ online: true, gatewayId: presence.id }).where(inArray(hosts.id, rows.map((r) => r.id)));
    await Promise.all(rows.map((r) => presence.disconnected(r.id, Date.now())));
    expect(await db().select().from(hosts).where(inArray(hosts.id, rows.map((r) => r.id)))).toSatisfy((hs: { online: boolean }[]) => hs.every((h) => !h.online));
    await presence.stop();
  });

  it('a disconnect does not set offline a host that connected again meanwhile', async () => {
    const [host] = await someHosts(1);
    const id = host?.id as string;
    let held: string[] = [];
    const presence = new GatewayPresence(() => held, (id) => held.includes(id), () => {});
    await presence.start();
    const lastWord = Date.now() - 1_000;
    // Its new connection here was greeted before the old socket's close was written.
    await db().update(hosts).set({ online: true, gatewayId: presence.id, lastSeen: new Date() }).where(eq(hosts.id, id));
    held = [id];
    await presence.disconnected(id, lastWord);
    expect((await db().select().from(hosts).where(eq(hosts.id, id)))[0]?.online).toBe(true);
    // It connected to another gateway instead: that one owns it now.
    held = [];
    await db().update(hosts).set({ gatewayId: crypto.randomUUID() }).where(eq(hosts.id, id));
    await presence.disconnected(id, lastWord);
    expect((await db().select().from(hosts).where(eq(hosts.id, id)))[0]?.online).toBe(true);
    // Gone for good: offline, last seen no earlier than what the row knew.
    await db().update(hosts).set({ gatewayId: presence.id }).where(eq(hosts.id, id));
    await presence.disconnected(id, lastWord);
    const [gone] = await db().select().from(hosts).where(eq(hosts.id, id));
    expect(gone).toMatchObject({ online: false, gatewayId: null });
    expect(gone?.lastSeen?.getTime()).toBeGreaterThan(lastWord);
    await db().update(hosts).set({ online: true, gatewayId: presence.id }).where(eq(hosts.id, id));
    await presence.stop();
    expect((await db().select().from(hosts).where(eq(hosts.id, id)))[0]?.online).toBe(false);
    expect(await db().select().from(agentGateways).where(eq(agentGateways.id, presence.id))).toHaveLength(0);
  });
});
