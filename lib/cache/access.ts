// Who may read what from the binary cache, answered from memory on the hot path (a host
// fetching a closure asks for every narinfo and NAR in it): which host a credential
// belongs to, and which store paths that host may read, kept in this process.
// Why this stays as strict as asking the database every time:
// - Only grants are remembered. A refusal (an unknown credential, a path not in the
//   host's set) is always asked again of the database, so a new build or deployment for
//   the host is readable at once.
// - A credential change (revoke, rotation, re-enrolment, retirement) sends NOTIFY
//   `credential:<hostId>` on the host channel in its own transaction (host-events.ts):
//   the host's entries go as soon as it arrives. A lookup that was in flight when any
//   credential changed is not remembered (it may have read the state before the commit).
// - The memory is used only while the LISTEN is known to work: every PING_MS this process
//   sends a NOTIFY to itself on the same channel, and if none came back within
//   PONG_DEADLINE_MS (the LISTEN connection died quietly, the database is away) everything
//   is dropped and every request asks the database until pings come back. A database
//   client replaced (closeDb, tests) starts from nothing.
// - Entries live at most ENTRY_TTL_MS: a bound for grants that end without a NOTIFY (a
//   pruned build, a deleted deployment), which the per-request check used to see at once.
// API tokens are not remembered: revoking one, changing its owner's role or membership
// or disabling the owner sends no NOTIFY, and that traffic (CI pushes, operators) is not
// the fleet's hot path.
import 'server-only';
import { randomBytes } from 'node:crypto';
import { and, type AnyColumn, eq, exists, or, sql } from 'drizzle-orm';
import type postgres from 'postgres';
import { hostFromCredential } from '@/lib/agents/credentials';
import { HOST_CHANNEL } from '@/lib/agents/host-events';
import { hashSecret } from '@/lib/auth/secrets';
import { db, sqlClient } from '@/lib/db/client';
import { buildPaths, builds, cacheObjects, closurePaths, deploymentTargets } from '@/lib/db/schema';

export type CacheHost = { id: string; orgId: string };

const PING_MS = 5_000;
const PONG_DEADLINE_MS = 15_000;
const ENTRY_TTL_MS = 60_000;
/** Store hashes remembered over all hosts (~80 bytes each): the least recently used hosts' sets go first. */
const MAX_PATHS = 400_000;
/** Hosts whose credential is remembered. */
const MAX_HOSTS = 50_000;
/** NAR file → store hashes, per organisation. */
const MAX_NAR_URLS = 100_000;
/** A LISTEN that failed is tried again after this long (postgres.js keeps a failed channel until its connection closes). */
const RELISTEN_MS = 30_000;

type HostEntry = {
  host: CacheHost;
  credentialHash: string;
  expires: number;
  /** Every store hash the host may read, loaded in one query; null until asked. */
  paths: Set<string> | null;
  pathsExpire: number;
  loading: Promise<void> | null;
};

/**
 * May this host fetch this store path? Yes if it is in a closure built for it or deployed
 * to it: a build's paths (build_paths), or the recorded closure of a system pushed by CI
 * (closure_paths, written when the deployment was made). The database's answer, always.
 */
async function hostMayReadInDb(orgId: string, hostId: string, storeHash: string): Promise<boolean> {
  const deployedTo = (storePath: AnyColumn) =>
    exists(
      db()
        .select({ one: sql`1` })
        .from(deploymentTargets)
        .where(and(eq(deploymentTargets.hostId, hostId), eq(deploymentTargets.storePath, storePath))),
    );
  const [built] = await db()
    .select({ one: sql<number>`1` })
    .from(buildPaths)
    .innerJoin(builds, eq(builds.id, buildPaths.buildId))
    .where(and(eq(buildPaths.storeHash, storeHash), or(eq(builds.hostId, hostId), deployedTo(builds.storePath))))
    .limit(1);
  if (built) return true;
  const [pushed] = await db()
    .select({ one: sql<number>`1` })
    .from(closurePaths)
    .where(and(eq(closurePaths.orgId, orgId), eq(closurePaths.storeHash, storeHash), deployedTo(closurePaths.rootPath)))
    .limit(1);
  return Boolean(pushed);
}

/**
 * Everything the host may read, in one query: the same grants as hostMayReadInDb, but only
 * within its organisation (a subset: a path outside it is still asked of the database).
 */
async function readableHashes(orgId: string, hostId: string): Promise<Set<string>> {
  const rows = await db().execute<{ store_hash: string }>(sql`
    with deployed as (
      select distinct ${deploymentTargets.storePath} as store_path from ${deploymentTargets}
      where ${deploymentTargets.hostId} = ${hostId} and ${deploymentTargets.storePath} is not null
    ), granted as (
      select ${builds.id} as id from ${builds} where ${builds.hostId} = ${hostId}
      union
      select ${builds.id} from ${builds} join deployed on ${builds.storePath} = deployed.store_path where ${builds.orgId} = ${orgId}
    )
    select ${buildPaths.storeHash} as store_hash from ${buildPaths} where ${buildPaths.buildId} in (select id from granted)
    union
    select ${closurePaths.storeHash} from ${closurePaths} join deployed on ${closurePaths.rootPath} = deployed.store_path where ${closurePaths.orgId} = ${orgId}`);
  return new Set([...rows].map((r) => r.store_hash));
}

async function narHashesInDb(orgId: string, narUrl: string): Promise<string[]> {
  const rows = await db()
    .select({ storeHash: cacheObjects.storeHash })
    .from(cacheObjects)
    .where(and(eq(cacheObjects.orgId, orgId), eq(cacheObjects.narUrl, narUrl)));
  return rows.map((r) => r.storeHash);
}

/** What one database client's LISTEN vouches for; replaced with the client. */
class AccessMemory {
  private readonly byCredential = new Map<string, HostEntry>();
  /** Insertion order is use order: the first entries are the least recently used. */
  private readonly byHost = new Map<string, HostEntry>();
  private readonly narHashes = new Map<string, string[]>();
  /**
   * The Authorization header a connection last sent and its entry: Nix keeps connections
   * open and sends the same header on each, which then costs a string comparison instead
   * of decoding and hashing. Valid only while the entry is (a dropped entry is not found).
   */
  private readonly byConnection = new WeakMap<object, { authorization: string; entry: HostEntry }>();
  private pathCount = 0;
  /** Bumped by every credential change and every loss of trust: fills that straddle one are dropped. */
  private generation = 0;
  private listening = false;
  private listenAttempt = 0;
  private lastPong = 0;
  private readonly pingToken = `cache-ping:${randomBytes(9).toString('base64url')}`;
  private readonly pinger: NodeJS.Timeout;
  private unlisten: (() => Promise<void>) | null = null;
  private stopped = false;

  constructor(readonly client: postgres.Sql) {
    this.listen();
    this.pinger = setInterval(() => this.ping(), PING_MS);
    this.pinger.unref();
  }

  private listen() {
    this.listenAttempt = Date.now();
    this.client
      .listen(
        HOST_CHANNEL,
        (payload) => this.heard(payload),
        // Called again after postgres.js re-establishes a dropped LISTEN: what was sent in between is lost.
        () => {
          this.forget();
          this.listening = true;
          this.ping();
        },
      )
      .then(
        (listener) => {
          if (this.stopped) void listener.unlisten().catch(() => {});
          else this.unlisten = listener.unlisten;
        },
        (error: unknown) => {
          if (!this.stopped) console.error(`[cache] cannot LISTEN on ${HOST_CHANNEL}; access checks go to the database:`, error instanceof Error ? error.message : error);
        },
      );
  }

  private ping() {
    if (this.stopped) return;
    const now = Date.now();
    // Not listening, or no ping back for long: postgres.js may have given up re-listening
    // after its connection dropped (it tries once). Listen afresh, at most every RELISTEN_MS.
    const silent = !this.listening || now - this.lastPong > 2 * PONG_DEADLINE_MS;
    if (silent && now - this.listenAttempt >= RELISTEN_MS) {
      const previous = this.unlisten;
      this.unlisten = null;
      this.listening = false;
      void previous?.().catch(() => {});
      this.listen();
    }
    if (!this.listening) return;
    this.client`select pg_notify(${HOST_CHANNEL}, ${this.pingToken})`.catch(() => {
      // The deadline decides: a failed ping is one that does not come back.
    });
  }

  private heard(payload: string) {
    if (payload === this.pingToken) {
      this.lastPong = Date.now();
      return;
    }
    const colon = payload.indexOf(':');
    if (payload.slice(0, colon) !== 'credential') return;
    this.generation++;
    const entry = this.byHost.get(payload.slice(colon + 1));
    if (entry) this.drop(entry);
  }

  /** The memory may answer: the LISTEN is up and heard this process's own ping lately. */
  trusted(now = Date.now()): boolean {
    if (this.listening && now - this.lastPong <= PONG_DEADLINE_MS) return true;
    if (this.byHost.size || this.narHashes.size) this.forget();
    return false;
  }

  private forget() {
    this.generation++;
    this.byCredential.clear();
    this.byHost.clear();
    this.narHashes.clear();
    this.pathCount = 0;
  }

  private drop(entry: HostEntry) {
    if (this.byHost.get(entry.host.id) === entry) this.byHost.delete(entry.host.id);
    if (this.byCredential.get(entry.credentialHash) === entry) this.byCredential.delete(entry.credentialHash);
    this.pathCount -= entry.paths?.size ?? 0;
    entry.paths = null;
  }

  /** The host from memory alone, or undefined: ask the database (host()). */
  rememberedHost(secret: string, connection?: { socket: object; authorization: string }): CacheHost | undefined {
    const now = Date.now();
    if (!this.trusted(now)) return undefined;
    const known = this.byCredential.get(hashSecret(secret));
    if (!known) return undefined;
    if (known.expires <= now) {
      this.drop(known);
      return undefined;
    }
    this.touch(known);
    if (connection) this.byConnection.set(connection.socket, { authorization: connection.authorization, entry: known });
    return known.host;
  }

  /** The host this connection's same Authorization header was last found to be, while its entry stands. */
  connectionHost(socket: object, authorization: string): CacheHost | undefined {
    const memo = this.byConnection.get(socket);
    if (memo?.authorization !== authorization) return undefined;
    const entry = memo.entry;
    const now = Date.now();
    if (this.byCredential.get(entry.credentialHash) !== entry || entry.expires <= now || !this.trusted(now)) return undefined;
    return entry.host;
  }

  /** A grant from memory alone: false means ask (mayRead()), not refused. */
  rememberedGrant(host: CacheHost, storeHash: string): boolean {
    const entry = this.byHost.get(host.id);
    return Boolean(entry?.paths && entry.pathsExpire > Date.now() && entry.paths.has(storeHash) && this.trusted());
  }

  async host(secret: string): Promise<CacheHost | null> {
    const remembered = this.rememberedHost(secret);
    if (remembered) return remembered;
    const credentialHash = hashSecret(secret);
    const generation = this.generation;
    const row = await hostFromCredential(secret);
    if (!row) return null;
    const host = { id: row.id, orgId: row.orgId };
    if (generation === this.generation && this.trusted() && row.credentialHash === credentialHash) {
      const previous = this.byHost.get(host.id);
      if (previous) this.drop(previous);
      const entry: HostEntry = { host, credentialHash, expires: Date.now() + ENTRY_TTL_MS, paths: null, pathsExpire: 0, loading: null };
      this.byCredential.set(credentialHash, entry);
      this.byHost.set(host.id, entry);
      while (this.byHost.size > MAX_HOSTS) this.evictOldest();
    }
    return host;
  }

  private touch(entry: HostEntry) {
    this.byHost.delete(entry.host.id);
    this.byHost.set(entry.host.id, entry);
  }

  private evictOldest() {
    const oldest = this.byHost.values().next().value;
    if (oldest) this.drop(oldest);
  }

  /** The host's remembered set, loading it (once, however many requests ask together) when absent or old. */
  private async pathsOf(host: CacheHost): Promise<Set<string> | null> {
    const entry = this.byHost.get(host.id);
    if (!entry) return null;
    if (entry.paths && entry.pathsExpire > Date.now()) return entry.paths;
    entry.loading ??= (async () => {
      const generation = this.generation;
      try {
        const paths = await readableHashes(host.orgId, host.id);
        // Dropped meanwhile (a credential change, lost trust): the set may predate it.
        if (generation !== this.generation || this.byHost.get(host.id) !== entry || paths.size > MAX_PATHS) return;
        this.pathCount -= entry.paths?.size ?? 0;
        entry.paths = paths;
        entry.pathsExpire = Date.now() + ENTRY_TTL_MS;
        this.pathCount += paths.size;
        // The least recently used hosts' sets go first; never the one just loaded.
        for (const other of this.byHost.values()) {
          if (this.pathCount <= MAX_PATHS) break;
          if (other !== entry && other.paths) {
            this.pathCount -= other.paths.size;
            other.paths = null;
          }
        }
      } finally {
        entry.loading = null;
      }
    })();
    await entry.loading;
    return entry.paths;
  }

  /** A grant the database just confirmed: remembered, unless the entry changed meanwhile. */
  private remember(host: CacheHost, storeHash: string, generation: number) {
    const entry = this.byHost.get(host.id);
    if (!entry?.paths || generation !== this.generation || this.pathCount >= MAX_PATHS) return;
    if (!entry.paths.has(storeHash)) {
      entry.paths.add(storeHash);
      this.pathCount++;
    }
  }

  async mayRead(host: CacheHost, storeHash: string): Promise<boolean> {
    if (this.trusted()) {
      const paths = await this.pathsOf(host);
      if (paths?.has(storeHash)) return true;
    }
    const generation = this.generation;
    const granted = await hostMayReadInDb(host.orgId, host.id, storeHash);
    if (granted) this.remember(host, storeHash, generation);
    return granted;
  }

  async mayReadNar(host: CacheHost, narUrl: string): Promise<boolean> {
    if (this.trusted()) {
      const key = `${host.orgId}/${narUrl}`;
      let hashes = this.narHashes.get(key);
      if (!hashes) {
        const generation = this.generation;
        hashes = await narHashesInDb(host.orgId, narUrl);
        if (hashes.length && generation === this.generation) {
          this.narHashes.set(key, hashes);
          if (this.narHashes.size > MAX_NAR_URLS) this.narHashes.delete(this.narHashes.keys().next().value as string);
        }
      }
      const paths = await this.pathsOf(host);
      if (paths && hashes.some((h) => paths.has(h))) return true;
    }
    // Refused from memory: the database decides, with every path this file is the NAR of.
    for (const storeHash of await narHashesInDb(host.orgId, narUrl)) {
      if (await this.mayRead(host, storeHash)) return true;
    }
    return false;
  }

  stop() {
    this.stopped = true;
    clearInterval(this.pinger);
    this.forget();
    void this.unlisten?.().catch(() => {});
  }
}

const globalForAccess = globalThis as unknown as { flotillaCacheAccess?: AccessMemory };

/** The memory for the current database client; a new client (closeDb, another DATABASE_URL) starts a new one. */
function memory(): AccessMemory {
  const client = sqlClient();
  let current = globalForAccess.flotillaCacheAccess;
  if (current?.client !== client) {
    current?.stop();
    current = new AccessMemory(client);
    globalForAccess.flotillaCacheAccess = current;
  }
  return current;
}

/** The host of this credential when this process remembers it; undefined: ask cacheHostFromCredential. */
export function rememberedCacheHost(secret: string, connection?: { socket: object; authorization: string }): CacheHost | undefined {
  return memory().rememberedHost(secret, connection);
}

/** The host a keep-alive connection's identical Authorization header was last found to be; undefined: parse it. */
export function connectionCacheHost(socket: object, authorization: string): CacheHost | undefined {
  return memory().connectionHost(socket, authorization);
}

/** True when memory says the host may read the path; false means ask hostMayRead (not a refusal). */
export function rememberedGrant(host: CacheHost, storeHash: string): boolean {
  return memory().rememberedGrant(host, storeHash);
}

/** The host this credential belongs to (not retired, credential current), or null. */
export function cacheHostFromCredential(secret: string): Promise<CacheHost | null> {
  return memory().host(secret);
}

/** May the host read this store path's narinfo? */
export function hostMayRead(host: CacheHost, storeHash: string): Promise<boolean> {
  return memory().mayRead(host, storeHash);
}

/** May the host read this NAR file: is it the NAR of a path the host may read? */
export function hostMayReadNar(host: CacheHost, narUrl: string): Promise<boolean> {
  return memory().mayReadNar(host, narUrl);
}

/** Whether the memory answers now (tests and the bench wait for it: the LISTEN and a first ping). */
export function cacheAccessReady(): boolean {
  return memory().trusted();
}

/** Stops the pings and LISTEN (a process shutting down its database client). */
export function stopCacheAccess() {
  globalForAccess.flotillaCacheAccess?.stop();
  globalForAccess.flotillaCacheAccess = undefined;
}
