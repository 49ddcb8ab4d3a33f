// Who is online. A host is online while the server process holding its socket (its
// gateway) is alive: each gateway beats in agent_gateways every few seconds and owns the
// `online` and `gateway_id` of the hosts it holds. A connected host therefore costs no
// write per heartbeat (heartbeats.ts writes only what changed), and presence never waits
// for a slot in the main pool: it has connections of its own (presenceDb). A gateway
// killed without a goodbye stops beating, and the sweep (run by workers) sets its hosts
// offline; hosts written online by something older than gateways fall back to last_seen.
import os from 'node:os';
import { sql } from 'drizzle-orm';
import { presenceDb } from '@/lib/db/client';

/** The interval agents are asked to send heartbeats at. */
export const HEARTBEAT_SECONDS = 15;
const BEAT_MS = 5_000;
/** A gateway not heard from for this long is dead, and so is the presence of its hosts. */
export const GATEWAY_STALE_SECONDS = 30;
/** How often a gateway makes the database agree with the sockets it holds. */
const RECONCILE_MS = 30_000;

const uuids = (ids: string[]) => `{${ids.join(',')}}`;

export class GatewayPresence {
  readonly id = crypto.randomUUID();
  private timer: NodeJS.Timeout | undefined;
  private beats = 0;
  private work: Promise<void> = Promise.resolve();

  constructor(
    /** The host ids this process holds sockets for right now. */
    private connected: () => string[],
    /** Whether it holds one for this host (asked per disconnect: cheaper than the list). */
    private holds: (hostId: string) => boolean,
    private log: (line: string) => void,
    private timing = { beatMs: BEAT_MS, reconcileMs: RECONCILE_MS },
  ) {}

  async start() {
    await this.register();
    this.timer = setInterval(() => this.serially(() => this.beat()), this.timing.beatMs);
    this.timer.unref();
  }

  private register() {
    const label = `${os.hostname()}:${process.pid}`;
    return presenceDb().execute(sql`
      insert into agent_gateways (id, label) values (${this.id}, ${label})
      on conflict (id) do update set alive_at = now()`);
  }

  /** One presence write at a time, and a failure is logged, never thrown at a timer. */
  private serially(fn: () => Promise<void>) {
    this.work = this.work.then(fn).catch((error) => this.log(`presence: ${error instanceof Error ? error.message : String(error)}`));
    return this.work;
  }

  private async beat() {
    this.beats += 1;
    const alive = await presenceDb().execute(sql`update agent_gateways set alive_at = now() where id = ${this.id} returning id`);
    // Swept as dead (the database was away longer than the stale limit): come back, and
    // put back online every host this process still holds.
    if (alive.length === 0) {
      this.log('presence: this gateway was taken for dead; registering again');
      await this.register();
      return this.reconcileNow();
    }
    if (this.beats % Math.max(1, Math.round(this.timing.reconcileMs / this.timing.beatMs)) === 0) await this.reconcileNow();
  }

  /**
   * Makes the hosts' rows agree with this process's sockets, writing only those that do
   * not: a disconnect whose write failed, hosts a sweep set offline while this process was
   * cut off from the database.
   */
  reconcile() {
    return this.serially(() => this.reconcileNow());
  }

  /** Inside the serial chain only (a beat): waiting for the chain from within it would never end. */
  private async reconcileNow() {
    const held = uuids(this.connected());
    await presenceDb().execute(sql`
      update hosts set online = true, gateway_id = ${this.id}
      where id in (select id from hosts where id = any(${held}::uuid[]) and retired_at is null
                   and (not online or gateway_id is distinct from ${this.id}) order by id for no key update)`);
    // Not a host admitted a moment ago (its hello writes on the main pool, concurrently).
    await presenceDb().execute(sql`
      update hosts set online = false, gateway_id = null, last_seen = now()
      where id in (select id from hosts where gateway_id = ${this.id} and not (id = any(${held}::uuid[]))
                   and last_seen < now() - interval '10 seconds' order by id for no key update)`);
  }

  /**
   * The host's socket here closed: offline, unless it connected again meanwhile, here (a
   * socket held again when the write's turn comes) or to another gateway (which owns it
   * now). Closes that come together (a network blip, thousands at once) are written in one
   * statement; the promise is the write.
   */
  disconnected(hostId: string, lastHeard: number): Promise<void> {
    const first = this.gone.size === 0;
    this.gone.set(hostId, lastHeard);
    if (first) this.goneWrite = this.serially(() => this.writeGone());
    return this.goneWrite;
  }

  private gone = new Map<string, number>();
  private goneWrite: Promise<void> = Promise.resolve();

  private async writeGone() {
    const gone = [...this.gone].filter(([id]) => !this.holds(id)).map(([host_id, at]) => ({ host_id, at: new Date(at).toISOString() }));
    this.gone.clear();
    if (gone.length === 0) return;
    await presenceDb().execute(sql`
      update hosts set online = false, gateway_id = null, last_seen = greatest(hosts.last_seen, v.at)
      from (select * from jsonb_to_recordset(${JSON.stringify(gone)}::jsonb) as x(host_id uuid, at timestamptz) order by host_id) v
      where hosts.id = v.host_id and hosts.gateway_id = ${this.id}`);
  }

  /**
   * A clean shutdown: this process's hosts are offline now, not after the stale limit. Never
   * longer than a few seconds: a database out of reach leaves it to the sweep.
   */
  async stop() {
    clearInterval(this.timer);
    const goodbye = this.serially(async () => {
      await presenceDb().execute(sql`update hosts set online = false, gateway_id = null, last_seen = now() where gateway_id = ${this.id}`);
      await presenceDb().execute(sql`delete from agent_gateways where id = ${this.id}`);
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([goodbye, new Promise((resolve) => (timer = setTimeout(resolve, 5_000)))]);
    clearTimeout(timer);
  }
}

/**
 * Sets offline the hosts of gateways that stopped beating (a server killed or cut off),
 * and hosts no gateway owns that were not heard from for three heartbeats. Returns how
 * many it set offline.
 */
export async function sweepPresence(now = new Date()) {
  const stale = new Date(now.getTime() - GATEWAY_STALE_SECONDS * 1000).toISOString();
  const silent = new Date(now.getTime() - 3 * HEARTBEAT_SECONDS * 1000 - 30_000).toISOString();
  // Locked in id order, as every multi-host write is (heartbeats.ts).
  const rows = await presenceDb().execute(sql`
    update hosts set online = false, gateway_id = null,
      last_seen = greatest(hosts.last_seen, (select g.alive_at from agent_gateways g where g.id = hosts.gateway_id))
    where id in (
      select id from hosts where online and (
        (gateway_id is null and (last_seen is null or last_seen < ${silent}::timestamptz))
        or (gateway_id is not null and not exists (
          select 1 from agent_gateways g where g.id = hosts.gateway_id and g.alive_at >= ${stale}::timestamptz)))
      order by id for no key update)
    returning id`);
  // Kept a day for whoever investigates a crash, then forgotten.
  await presenceDb().execute(sql`delete from agent_gateways where alive_at < ${now.toISOString()}::timestamptz - interval '1 day'`);
  return rows.length;
}
