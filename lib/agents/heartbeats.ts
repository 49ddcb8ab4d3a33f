// Heartbeats are buffered in memory and written about once a second in one
// statement (presence on hosts, samples into host_metrics), never one transaction
// per heartbeat: a thousand agents cost one round trip a second, not a thousand.
// Presence and last health follow every heartbeat; host_metrics keeps one sample per
// host every few minutes (lib/health/samples.ts rolls them up), not one per heartbeat.
import { sql } from 'drizzle-orm';
import { db } from '@/lib/db/client';
import { nixpkgsDate } from '@/lib/hosts/nixpkgs-date';
import type { THeartbeat } from './protocol';

type Sample = THeartbeat & { hostId: string; at: string };

export class HeartbeatWriter {
  private pending = new Map<string, Sample>();
  private sampledAt = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  /** Statements written so far (for tests and metrics). */
  flushes = 0;

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

  flush(): Promise<void> {
    if (this.pending.size === 0) return this.writing;
    const now = Date.now();
    const rows = [...this.pending.values()].map((s) => ({
      sample: this.takeSample(s.hostId, now),
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
    }));
    this.pending = new Map();
    this.writing = this.writing.then(async () => {
      try {
        await db().execute(sql`
          with v as (
            select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(
              sample boolean, host_id uuid, at timestamptz, uptime bigint, load1 double precision, mem_used bigint, mem_total bigint,
              store_free bigint, failed_units int, failed_list jsonb, current_system text, booted_system text, needs_reboot boolean, nixos_version text, nixpkgs_date date)
          ),
          presence as (
            -- A sample older than what the host row already knows (a deployment result
            -- recorded meanwhile) must not put back the system it replaced.
            -- Nor may it bring back online a host whose socket closed after it arrived: the
            -- close wrote last_seen = the connection's last word, which is no earlier than it.
            update hosts set online = hosts.online or hosts.last_seen is null or v.at > hosts.last_seen,
              last_seen = greatest(hosts.last_seen, v.at),
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
          from v join presence p on p.id = v.host_id
          where v.sample
          on conflict do nothing`);
        this.flushes += 1;
      } catch (error) {
        console.error('[agents] writing heartbeats failed', error);
      }
    });
    return this.writing;
  }

  /** The first heartbeat of a host, then one every sampleEveryMs, becomes a metrics sample. */
  private takeSample(hostId: string, now: number): boolean {
    const last = this.sampledAt.get(hostId);
    if (last !== undefined && now - last < this.sampleEveryMs) return false;
    this.sampledAt.set(hostId, now);
    return true;
  }

  async stop() {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
