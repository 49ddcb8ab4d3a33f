// Heartbeats are buffered in memory and written about once a second in one transaction
// on presence's own connections (never one per heartbeat, never waiting behind a
// deployment for a slot in the main pool). A heartbeat is written only when it says
// something new: the host's first one on this process, a change of system, reboot need,
// NixOS version, failed units or store space (to the GiB), or a metrics sample, one per
// host every few minutes (lib/health/samples.ts rolls them up). Being connected is not
// news: presence follows the socket and its gateway (presence.ts), not heartbeats.
// Hosts are locked in id order first, as every multi-host write does (the rollout's
// releases), so two such writers wait for each other instead of deadlocking.
import { sql } from 'drizzle-orm';
import { presenceDb } from '@/lib/db/client';
import { nixpkgsDate } from '@/lib/hosts/nixpkgs-date';
import type { THeartbeat } from './protocol';

type Sample = THeartbeat & { hostId: string; at: string };
const GIB = 1024 ** 3;

/** What makes a heartbeat worth writing; vitals (load, memory, uptime) wait for the next sample. */
function newsKey(h: THeartbeat): string {
  return JSON.stringify([h.currentSystem, h.bootedSystem, h.needsReboot ?? false, h.nixosVersion, h.failedUnits, Math.floor(h.storeFreeBytes / GIB)]);
}

export class HeartbeatWriter {
  private pending = new Map<string, Sample>();
  /** Per host: what was last written, and when it was last sampled. */
  private written = new Map<string, { key: string; sampledAt: number }>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  /** Transactions written so far, and heartbeats that needed no write (for tests and metrics). */
  flushes = 0;
  skipped = 0;

  constructor(
    private intervalMs = 1_000,
    private sampleEveryMs = 5 * 60_000,
  ) {}

  start() {
    this.timer ??= setInterval(() => void this.flush(), this.intervalMs);
    this.timer.unref();
  }

  /**
   * Keeps the latest heartbeat per host until the next flush. `receivedAt` is when its
   * frame arrived: the gateway passes the same instant it records as the connection's
   * last word, which is what a closed connection leaves in `last_seen`.
   */
  add(hostId: string, heartbeat: THeartbeat, receivedAt = Date.now()) {
    this.pending.set(hostId, { ...heartbeat, hostId, at: new Date(receivedAt).toISOString() });
  }

  /** The host's socket closed: its next connection starts with a write. */
  forget(hostId: string) {
    this.written.delete(hostId);
  }

  flush(): Promise<void> {
    if (this.pending.size === 0) return this.writing;
    const batch = this.pending;
    this.pending = new Map();
    this.writing = this.writing.then(() => this.write(batch));
    return this.writing;
  }

  private async write(batch: Map<string, Sample>) {
    const now = Date.now();
    const rows: (Record<string, unknown> & { host_id: string })[] = [];
    const wrote: [string, { key: string; sampledAt: number }][] = [];
    for (const s of batch.values()) {
      const key = newsKey(s);
      const last = this.written.get(s.hostId);
      const sample = !last || now - last.sampledAt >= this.sampleEveryMs;
      if (!sample && last.key === key) {
        this.skipped += 1;
        continue;
      }
      wrote.push([s.hostId, { key, sampledAt: sample ? now : last.sampledAt }]);
      rows.push({
        sample,
        host_id: s.hostId,
        at: s.at,
        uptime: Math.round(s.uptimeSeconds),
        load1: s.load1,
        mem_used: s.memUsedBytes,
        mem_total: s.memTotalBytes,
        store_free: s.storeFreeBytes,
        failed_units: s.failedUnits?.length ?? null,
        failed_list: s.failedUnits,
        current_system: s.currentSystem,
        booted_system: s.bootedSystem,
        needs_reboot: s.needsReboot ?? false,
        nixos_version: s.nixosVersion,
        nixpkgs_date: nixpkgsDate(s.nixosVersion),
      });
    }
    if (rows.length === 0) return;
    try {
      const ids = `{${rows.map((r) => r.host_id).join(',')}}`;
      await presenceDb().transaction(async (tx) => {
        await tx.execute(sql`select 1 from hosts where id = any(${ids}::uuid[]) order by id for no key update`);
        await tx.execute(sql`
          with v as (
            select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(
              sample boolean, host_id uuid, at timestamptz, uptime bigint, load1 double precision, mem_used bigint, mem_total bigint,
              store_free bigint, failed_units int, failed_list jsonb, current_system text, booted_system text, needs_reboot boolean, nixos_version text, nixpkgs_date date)
          ),
          reported as (
            -- A sample older than what the host row already knows (a deployment result
            -- recorded meanwhile, a disconnect) must not put back the system it replaced.
            update hosts set last_seen = greatest(hosts.last_seen, v.at),
              current_system = case when hosts.last_seen is null or v.at >= hosts.last_seen then v.current_system else hosts.current_system end,
              booted_system = case when hosts.last_seen is null or v.at >= hosts.last_seen then v.booted_system else hosts.booted_system end,
              needs_reboot = case when hosts.last_seen is null or v.at >= hosts.last_seen then v.needs_reboot else hosts.needs_reboot end,
              nixos_version = case when hosts.last_seen is null or v.at >= hosts.last_seen then v.nixos_version else hosts.nixos_version end,
              nixpkgs_date = case when hosts.last_seen is null or v.at >= hosts.last_seen then v.nixpkgs_date else hosts.nixpkgs_date end,
              last_health = jsonb_build_object('uptimeSeconds', v.uptime, 'load1', v.load1, 'memUsedBytes', v.mem_used,
                'memTotalBytes', v.mem_total, 'storeFreeBytes', v.store_free, 'failedUnits', v.failed_list, 'at', v.at)
            from v where hosts.id = v.host_id and hosts.retired_at is null
            returning hosts.id
          )
          insert into host_metrics (host_id, resolution, at, online, uptime_seconds, load1, mem_used_bytes, mem_total_bytes, store_free_bytes, failed_units)
          select v.host_id, 'raw', v.at, true, v.uptime, v.load1, v.mem_used, v.mem_total, v.store_free, v.failed_units
          from v join reported r on r.id = v.host_id
          where v.sample
          on conflict do nothing`);
      });
      for (const [hostId, written] of wrote) this.written.set(hostId, written);
      this.flushes += 1;
    } catch (error) {
      // Not lost: back in the queue for the next flush, unless a newer heartbeat came meanwhile.
      for (const row of rows) {
        const s = batch.get(row.host_id);
        if (s && !this.pending.has(row.host_id)) this.pending.set(row.host_id, s);
      }
      console.error(`[agents] writing ${rows.length} heartbeats failed; retrying with the next flush:`, error instanceof Error ? error.message : error);
    }
  }

  async stop() {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
