// Every table of Flotilla, its relations and inferred types. DESIGN.md §4.
import { sql } from 'drizzle-orm';
import {
  customType,
  bigint,
  date,
  bigserial,
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import type { TStateUnit } from '@/lib/agents/protocol';
import type {
  TBuildInputsAtRest,
  TBuildProgress,
  TCheckItems,
  TDecisionChoices,
  THostHealth,
  THostSettingsAtRest,
  TRequestPayload,
  TRolloutAtRest,
  TRolloutInput,
  TStoredDiff,
  TStoredPayload,
} from './json-types';
import {
  ALERT_KINDS,
  BUILD_STATUSES,
  DEPLOYMENT_SOURCES,
  DEPLOYMENT_STATUSES,
  METRIC_RESOLUTIONS,
  PACKAGE_INDEX_STATUSES,
  PACKAGE_POLICY_RULES,
  REQUEST_KINDS,
  REQUEST_STATUSES,
  RESTORE_STATUSES,
  ROLES,
  TARGET_PHASES,
  WEBHOOK_DELIVERY_STATUSES,
  WEBHOOK_FORMATS,
} from './enums';

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const ts = (name: string) => timestamp(name, { withTimezone: true });

export const roleEnum = pgEnum('role', ROLES);

// ---------------------------------------------------------------- tenancy and people

export const organizations = pgTable('organizations', {
  id: uuid('id').primaryKey().defaultRandom(),
  slug: text('slug').notNull().unique(),
  name: text('name').notNull(),
  createdAt: createdAt(),
});

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    // Always stored lower-cased; sign-in compares lower-cased input.
    email: text('email').notNull(),
    name: text('name').notNull(),
    passwordHash: text('password_hash'),
    emailVerified: ts('email_verified'),
    image: text('image'),
    // Bumped to end every session of the user at once (password change, disable).
    sessionEpoch: integer('session_epoch').notNull().default(0),
    disabledAt: ts('disabled_at'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('users_email_key').on(t.email)],
);

export const memberships = pgTable(
  'memberships',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: roleEnum('role').notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.userId] }), index('memberships_user_idx').on(t.userId)],
);

export const invitations = pgTable(
  'invitations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    email: text('email').notNull(),
    name: text('name').notNull(),
    role: roleEnum('role').notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    invitedBy: uuid('invited_by').references(() => users.id, { onDelete: 'set null' }),
    expiresAt: ts('expires_at').notNull(),
    acceptedAt: ts('accepted_at'),
    revokedAt: ts('revoked_at'),
    createdAt: createdAt(),
  },
  (t) => [index('invitations_org_idx').on(t.orgId)],
);

// next-auth: accounts link an OIDC identity to a user. Sessions are JWTs (the
// credentials provider requires it in next-auth v4), so there is no sessions table;
// users.session_epoch revokes them. See docs/decisions/0002-next-auth-v4-jwt.md.
export const accounts = pgTable(
  'accounts',
  {
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    type: text('type').notNull(),
    provider: text('provider').notNull(),
    providerAccountId: text('provider_account_id').notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.provider, t.providerAccountId] }), index('accounts_user_idx').on(t.userId)],
);

export const apiTokens = pgTable(
  'api_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    // SHA-256 of the random secret; the secret itself is shown once and never stored.
    tokenHash: text('token_hash').notNull().unique(),
    // The first characters of the secret, so people can tell their tokens apart.
    prefix: text('prefix').notNull(),
    scopes: text('scopes').array().notNull(),
    // A deploy token for CI may be limited to hosts carrying one of these tags; null = every host.
    hostTags: text('host_tags').array(),
    // The token that made this one (a CI token minting short-lived ones): revoking it
    // revokes this one too. Not a foreign key: the row of a revoked parent stays anyway.
    parentId: uuid('parent_id'),
    expiresAt: ts('expires_at'),
    lastUsedAt: ts('last_used_at'),
    revokedAt: ts('revoked_at'),
    createdAt: createdAt(),
  },
  (t) => [index('api_tokens_org_user_idx').on(t.orgId, t.userId)],
);

// ---------------------------------------------------------------- fleet

export const fleetSettings = pgTable('fleet_settings', {
  orgId: uuid('org_id')
    .primaryKey()
    .references(() => organizations.id, { onDelete: 'cascade' }),
  // A flake reference; null means the in-repo stand-in (FLOTILLA_NIXPKGS overrides).
  nixpkgsSource: text('nixpkgs_source'),
  rolloutDefaults: jsonb('rollout_defaults').notNull().default(sql`'{}'::jsonb`).$type<TRolloutInput>(),
  // The binary cache signing key pair, made on first start. The secret half is
  // encrypted with a key derived from AUTH_SECRET (lib/crypto/secret-box.ts).
  cacheKeyName: text('cache_key_name'),
  cachePublicKey: text('cache_public_key'),
  cacheSecretKeyEnc: text('cache_secret_key_enc'),
  // Builds older than this lose their cache entries, unless a host runs them or is about to.
  buildRetentionDays: integer('build_retention_days').notNull().default(30),
  // Public keys (`name:base64`) of CI signing keys: when any is set, a closure pushed over
  // HTTP must carry a signature by one of them (lib/cache/upload.ts, decision 0023).
  cacheTrustedKeys: text('cache_trusted_keys').array().notNull().default(sql`'{}'::text[]`),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

export const hosts = pgTable(
  'hosts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    credentialHash: text('credential_hash'),
    enrolledAt: ts('enrolled_at'),
    online: boolean('online').notNull().default(false),
    // The server process holding its socket (agent_gateways): the host is online while that
    // process is alive, so a connected host costs no write per heartbeat. No foreign key: a
    // gateway's row goes when it dies, and the presence sweep sets its hosts offline.
    gatewayId: uuid('gateway_id'),
    // The last time its agent was heard from, as written: when it disconnected, or its
    // reported state last changed or was sampled. An online host is being heard from now.
    lastSeen: ts('last_seen'),
    currentSystem: text('current_system'),
    bootedSystem: text('booted_system'),
    // NixOS's own rule, applied by the agent: the booted system's kernel, initrd or kernel
    // modules differ from the current one's. Not "booted system != current system", which
    // is true after every switch.
    needsReboot: boolean('needs_reboot').notNull().default(false),
    desiredSystem: text('desired_system'),
    nixosVersion: text('nixos_version'),
    // When its nixpkgs was cut (from nixosVersion, lib/hosts/nixpkgs-date.ts), for "outdated".
    nixpkgsDate: date('nixpkgs_date', { mode: 'string' }),
    agentVersion: text('agent_version'),
    lastHealth: jsonb('last_health').$type<THostHealth>(),
    // The final phase of the host's newest finished deployment target, kept here so the
    // fleet overview can count hosts whose last deployment failed without a join.
    lastDeployPhase: text('last_deploy_phase'),
    lastDeployAt: ts('last_deploy_at'),
    // The state units its running system declares, as the agent last reported them (lib/state).
    stateUnits: jsonb('state_units').notNull().default(sql`'[]'::jsonb`).$type<TStateUnit[]>(),
    // No config in Flotilla: its systems are built elsewhere (CI), pushed to the cache and
    // deployed with deploy.json. Never built, never the subject of a request.
    deployOnly: boolean('deploy_only').notNull().default(false),
    retiredAt: ts('retired_at'),
    createdAt: createdAt(),
  },
  (t) => [
    // A retired host frees its name for a new machine.
    uniqueIndex('hosts_org_name_key').on(t.orgId, t.name).where(sql`${t.retiredAt} is null`),
    index('hosts_tags_idx').using('gin', t.tags),
    uniqueIndex('hosts_credential_key').on(t.credentialHash),
  ],
);

// Every server process holding agent sockets beats here every few seconds; hosts whose
// gateway stopped beating are offline (lib/agents/presence.ts).
export const agentGateways = pgTable('agent_gateways', {
  id: uuid('id').primaryKey(),
  label: text('label').notNull(),
  startedAt: ts('started_at').notNull().defaultNow(),
  aliveAt: ts('alive_at').notNull().defaultNow(),
});

export const hostAssignees = pgTable(
  'host_assignees',
  {
    hostId: uuid('host_id')
      .notNull()
      .references(() => hosts.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.hostId, t.userId] }), index('host_assignees_user_idx').on(t.userId)],
);

export const enrollTokens = pgTable('enroll_tokens', {
  id: uuid('id').primaryKey().defaultRandom(),
  hostId: uuid('host_id')
    .notNull()
    .references(() => hosts.id, { onDelete: 'cascade' }),
  tokenHash: text('token_hash').notNull().unique(),
  createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
  expiresAt: ts('expires_at').notNull(),
  usedAt: ts('used_at'),
  revokedAt: ts('revoked_at'),
  createdAt: createdAt(),
});

// Append-only: a save is a new row, never an update.
export const hostConfigs = pgTable(
  'host_configs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    hostId: uuid('host_id')
      .notNull()
      .references(() => hosts.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    module: text('module').notNull(),
    settings: jsonb('settings').notNull().default(sql`'{}'::jsonb`).$type<THostSettingsAtRest>(),
    authorId: uuid('author_id').references(() => users.id, { onDelete: 'set null' }),
    onBehalfOf: uuid('on_behalf_of').references(() => users.id, { onDelete: 'set null' }),
    message: text('message').notNull().default(''),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('host_configs_host_version_key').on(t.hostId, t.version)],
);

export const modules = pgTable(
  'modules',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    // Applied to every host carrying one of these tags.
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    retiredAt: ts('retired_at'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('modules_org_name_key').on(t.orgId, t.name)],
);

export const moduleVersions = pgTable(
  'module_versions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    moduleId: uuid('module_id')
      .notNull()
      .references(() => modules.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    text: text('text').notNull(),
    authorId: uuid('author_id').references(() => users.id, { onDelete: 'set null' }),
    message: text('message').notNull().default(''),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('module_versions_module_version_key').on(t.moduleId, t.version)],
);

const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });

// The package index of a nixpkgs source, built by the worker, searched by people
// requesting and adding software. Keyed by source so several sources can coexist.
export const packageIndex = pgTable(
  'package_index',
  {
    source: text('source').notNull(),
    attr: text('attr').notNull(),
    pname: text('pname').notNull(),
    version: text('version').notNull().default(''),
    description: text('description').notNull().default(''),
    search: tsvector('search')
      .notNull()
      .generatedAlwaysAs(
        sql`setweight(to_tsvector('simple', coalesce("attr", '') || ' ' || coalesce("pname", '')), 'A') || setweight(to_tsvector('english', coalesce("description", '')), 'B')`,
      ),
  },
  (t) => [primaryKey({ columns: [t.source, t.attr] }), index('package_index_search_idx').using('gin', t.search)],
);

export const packageIndexSources = pgTable('package_index_sources', {
  source: text('source').primaryKey(),
  status: text('status', { enum: PACKAGE_INDEX_STATUSES }).notNull(),
  packageCount: integer('package_count').notNull().default(0),
  error: text('error'),
  startedAt: ts('started_at').notNull().defaultNow(),
  finishedAt: ts('finished_at'),
});

export const buildStatusEnum = pgEnum('build_status', BUILD_STATUSES);

export const builds = pgTable(
  'builds',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    hostId: uuid('host_id')
      .notNull()
      .references(() => hosts.id, { onDelete: 'cascade' }),
    configVersion: integer('config_version').notNull(),
    // A reviewer's preview of a request (the config with the change, not yet saved): never
    // "the host's newest build" until a saved config with the same inputs reuses it.
    preview: boolean('preview').notNull().default(false),
    // Which module versions went in, so a build can be reproduced and explained.
    inputs: jsonb('inputs').notNull().default(sql`'{}'::jsonb`).$type<TBuildInputsAtRest>(),
    inputHash: text('input_hash').notNull(),
    status: buildStatusEnum('status').notNull().default('queued'),
    storePath: text('store_path'),
    closureSize: bigint('closure_size', { mode: 'number' }),
    progress: jsonb('progress').$type<TBuildProgress>(),
    log: text('log').notNull().default(''),
    error: text('error'),
    diff: jsonb('diff').$type<TStoredDiff>(),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    startedAt: ts('started_at'),
    finishedAt: ts('finished_at'),
    // The worker building it, and when it last said so: a build whose worker went
    // silent is taken over by the retried job instead of staying "running" forever.
    workerId: text('worker_id'),
    heartbeatAt: ts('heartbeat_at'),
    // Where that worker runs (hostname and boot id), its pid and start time (clock ticks
    // since boot, since pids are reused), and the process group of its `nix build`: on the
    // same machine and boot, whoever takes the build over knows at once whether the
    // worker is dead, and kills the orphaned build first (lib/builds/run-build.ts).
    workerHost: text('worker_host'),
    workerBootId: text('worker_boot_id'),
    workerPid: integer('worker_pid'),
    workerStart: bigint('worker_start', { mode: 'number' }),
    nixPgid: integer('nix_pgid'),
    nixStart: bigint('nix_start', { mode: 'number' }),
    // Cache entries of old builds are pruned; the row and its log stay.
    prunedAt: ts('pruned_at'),
  },
  (t) => [
    index('builds_host_idx').on(t.hostId, t.createdAt),
    // Which build made a system a host runs: the inventory and "installed packages" start here.
    index('builds_store_path_idx').on(t.orgId, t.storePath),
    // One live build per host and input set: a second request for the same inputs gets the first.
    uniqueIndex('builds_host_inputs_live_key').on(t.hostId, t.inputHash).where(sql`${t.status} in ('queued', 'running', 'succeeded') and ${t.prunedAt} is null`),
  ],
);

// The store paths of each build's closure: what a host's credential may fetch from the cache.
export const buildPaths = pgTable(
  'build_paths',
  {
    buildId: uuid('build_id')
      .notNull()
      .references(() => builds.id, { onDelete: 'cascade' }),
    // The 32-character hash part of the store path, as in `<hash>.narinfo`.
    storeHash: text('store_hash').notNull(),
    storePath: text('store_path').notNull(),
    narSize: bigint('nar_size', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.buildId, t.storeHash] }), index('build_paths_hash_idx').on(t.storeHash)],
);

// What the cache holds for an organisation: narinfo by store hash, and which NAR file it points at.
export const cacheObjects = pgTable(
  'cache_objects',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    storeHash: text('store_hash').notNull(),
    storePath: text('store_path').notNull(),
    // The narinfo's URL field, e.g. nar/1w1fff…xz.nar.xz
    narUrl: text('nar_url').notNull(),
    fileSize: bigint('file_size', { mode: 'number' }),
    // From the narinfo: what the path's closure walk and a pushed narinfo's checks need.
    // Null on rows written before they were kept (read from the narinfo when needed).
    narHash: text('nar_hash'),
    narSize: bigint('nar_size', { mode: 'number' }),
    references: text('references').array(),
    // Set when the path came over HTTP (`nix copy --to …/cache`), by this API token.
    pushedAt: ts('pushed_at'),
    pushedBy: uuid('pushed_by').references(() => apiTokens.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.storeHash] }), index('cache_objects_nar_idx').on(t.orgId, t.narUrl)],
);

// NAR files uploaded over HTTP whose narinfo has not arrived yet: checked against their
// name (FileHash) as they arrive, unpacked to learn their NarHash and NarSize, and
// claimed by the narinfo that names them. Unclaimed ones are deleted after a day.
export const cacheUploads = pgTable(
  'cache_uploads',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    narUrl: text('nar_url').notNull(),
    fileSize: bigint('file_size', { mode: 'number' }).notNull(),
    narHash: text('nar_hash').notNull(),
    narSize: bigint('nar_size', { mode: 'number' }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.narUrl] })],
);

// The closure of every system deployed that no build of Flotilla's made (pushed by CI):
// what a host's credential may fetch besides its builds' paths (lib/cache/closure.ts).
export const closurePaths = pgTable(
  'closure_paths',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    rootPath: text('root_path').notNull(),
    storeHash: text('store_hash').notNull(),
    storePath: text('store_path').notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.rootPath, t.storeHash] }), index('closure_paths_hash_idx').on(t.orgId, t.storeHash)],
);

// Signed statements "the key after <previous> is <new>" (lib/cache/key-rotation.ts): sent
// with every welcome, so an agent that pinned an older key can walk the chain to the
// current one. The signature is by the previous key's secret half (docs/decisions/0017).
export const cacheKeyRotations = pgTable(
  'cache_key_rotations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    previousKey: text('previous_key').notNull(),
    newKey: text('new_key').notNull(),
    issuedAt: ts('issued_at').notNull(),
    previousKeyTrustedUntil: ts('previous_key_trusted_until'),
    signature: text('signature').notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('cache_key_rotations_previous_idx').on(t.orgId, t.previousKey), index('cache_key_rotations_org_idx').on(t.orgId, t.createdAt)],
);

export const deploymentStatusEnum = pgEnum('deployment_status', DEPLOYMENT_STATUSES);
export const deploymentSourceEnum = pgEnum('deployment_source', DEPLOYMENT_SOURCES);

export const deployments = pgTable(
  'deployments',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    status: deploymentStatusEnum('status').notNull().default('pending'),
    strategy: jsonb('strategy').notNull().$type<TRolloutAtRest>(),
    source: deploymentSourceEnum('source').notNull(),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    // A rollback deployment points at the deployment it undoes.
    rollbackOf: uuid('rollback_of'),
    // Why the rollout stopped (halted, failed, cancelled), in words for people.
    reason: text('reason'),
    // Canaries all succeeded: the rollout goes on once they stayed healthy until then.
    watchUntil: ts('watch_until'),
    pausedAt: ts('paused_at'),
    createdAt: createdAt(),
    startedAt: ts('started_at'),
    finishedAt: ts('finished_at'),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('deployments_org_idx').on(t.orgId, t.createdAt),
    // The rollout driver scans only deployments that can still move.
    index('deployments_active_idx').on(t.status).where(sql`status in ('pending', 'canary', 'rolling')`),
  ],
);

export const targetPhaseEnum = pgEnum('target_phase', TARGET_PHASES);

export const deploymentTargets = pgTable(
  'deployment_targets',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    deploymentId: uuid('deployment_id')
      .notNull()
      .references(() => deployments.id, { onDelete: 'cascade' }),
    hostId: uuid('host_id')
      .notNull()
      .references(() => hosts.id, { onDelete: 'cascade' }),
    // Null while the target waits for its build ({hosts, build: true}).
    storePath: text('store_path'),
    buildId: uuid('build_id').references(() => builds.id, { onDelete: 'set null' }),
    // 0 = canary; 1, 2, … = the waves after them, each at most maxInFlight hosts.
    wave: integer('wave').notNull().default(0),
    // What the host ran when the target was sent: a rollback returns it there.
    previousSystem: text('previous_system'),
    phase: targetPhaseEnum('phase').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    error: text('error'),
    rollbackReason: text('rollback_reason'),
    // The rollout lets a target go (its wave came) by setting this; the server
    // holding the host's socket then sends it and moves it to `sent`.
    releasedAt: ts('released_at'),
    sentAt: ts('sent_at'),
    confirmedAt: ts('confirmed_at'),
    finishedAt: ts('finished_at'),
    // The agent's last words on it: its progress lines and the log tail of its result.
    log: text('log').notNull().default(''),
    // Progress lines while it runs (the last 1,500 characters), kept in the row and moved
    // into the log with the result: a growing log is not rewritten per message.
    progress: text('progress'),
    // Pre-switch check items the agent reported ({id, check, level, message, resolutions}),
    // and the resolution a person chose for each blocking one (item id → resolution id).
    checks: jsonb('checks').$type<TCheckItems>(),
    decision: jsonb('decision').$type<TDecisionChoices>(),
    decidedBy: uuid('decided_by').references(() => users.id, { onDelete: 'set null' }),
    decidedAt: ts('decided_at'),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('deployment_targets_deployment_host_key').on(t.deploymentId, t.hostId),
    index('deployment_targets_host_idx').on(t.hostId, t.phase),
    index('deployment_targets_deployment_idx').on(t.deploymentId, t.wave),
  ],
);

// Each build's closure as package names and versions (parsed from its store paths), for
// the software inventory: "which hosts run openssl 3.0.x?" is an index lookup.
export const closurePackages = pgTable(
  'closure_packages',
  {
    buildId: uuid('build_id')
      .notNull()
      .references(() => builds.id, { onDelete: 'cascade' }),
    pname: text('pname').notNull(),
    version: text('version').notNull(),
    storePath: text('store_path').notNull(),
  },
  (t) => [primaryKey({ columns: [t.buildId, t.storePath] }), index('closure_packages_pname_idx').on(t.pname, t.version)],
);

export const requestKindEnum = pgEnum('request_kind', REQUEST_KINDS);
export const requestStatusEnum = pgEnum('request_status', REQUEST_STATUSES);

export const requests = pgTable(
  'requests',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    hostId: uuid('host_id')
      .notNull()
      .references(() => hosts.id, { onDelete: 'cascade' }),
    requesterId: uuid('requester_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    kind: requestKindEnum('kind').notNull(),
    payload: jsonb('payload').notNull().default(sql`'{}'::jsonb`).$type<TRequestPayload>(),
    reason: text('reason').notNull(),
    status: requestStatusEnum('status').notNull().default('submitted'),
    reviewerId: uuid('reviewer_id').references(() => users.id, { onDelete: 'set null' }),
    decidedAt: ts('decided_at'),
    // The word that came with the decision: a denial's reason, an approval's note.
    decisionComment: text('decision_comment'),
    // Approved by a pre-approval policy, not a person.
    autoApproved: boolean('auto_approved').notNull().default(false),
    // What the approval made: the config version, its build and its deployment.
    configVersion: integer('config_version'),
    buildId: uuid('build_id').references(() => builds.id, { onDelete: 'set null' }),
    deploymentId: uuid('deployment_id').references(() => deployments.id, { onDelete: 'set null' }),
    // The build of "host config + this change", made on demand for the reviewer's closure diff.
    previewBuildId: uuid('preview_build_id').references(() => builds.id, { onDelete: 'set null' }),
    failure: text('failure'),
    createdAt: createdAt(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('requests_org_status_idx').on(t.orgId, t.status),
    index('requests_requester_idx').on(t.requesterId),
    index('requests_deployment_idx').on(t.deploymentId),
  ],
);

export const packagePolicyRuleEnum = pgEnum('package_policy_rule', PACKAGE_POLICY_RULES);

// Per organisation: packages requests get without review, and packages they never get.
export const packagePolicies = pgTable(
  'package_policies',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    package: text('package').notNull(),
    rule: packagePolicyRuleEnum('rule').notNull(),
    // Shown to the requester when the rule refuses them.
    reason: text('reason').notNull().default(''),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.package] })],
);

export const requestComments = pgTable('request_comments', {
  id: uuid('id').primaryKey().defaultRandom(),
  requestId: uuid('request_id')
    .notNull()
    .references(() => requests.id, { onDelete: 'cascade' }),
  authorId: uuid('author_id').references(() => users.id, { onDelete: 'set null' }),
  body: text('body').notNull(),
  createdAt: createdAt(),
});

// ---------------------------------------------------------------- notifications

// In-app notifications: one row per person and event, read or not.
export const notifications = pgTable(
  'notifications',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    kind: text('kind').notNull(),
    title: text('title').notNull(),
    body: text('body').notNull().default(''),
    url: text('url'),
    // Identifies the occurrence, so one event notifies a person once.
    eventKey: text('event_key').notNull(),
    readAt: ts('read_at'),
    emailedAt: ts('emailed_at'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('notifications_user_event_key').on(t.userId, t.eventKey), index('notifications_user_idx').on(t.userId, t.createdAt)],
);

export const webhookFormatEnum = pgEnum('webhook_format', WEBHOOK_FORMATS);

export const webhooks = pgTable(
  'webhooks',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    url: text('url').notNull(),
    format: webhookFormatEnum('format').notNull().default('generic'),
    // The HMAC signing secret, sealed like the cache key (lib/crypto/secret-box.ts):
    // signing needs it back, so a hash would not do.
    secretEnc: text('secret_enc').notNull(),
    // Event names it wants (e.g. deployment.started); empty = all.
    events: text('events').array().notNull().default(sql`'{}'::text[]`),
    active: boolean('active').notNull().default(true),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
  },
  (t) => [index('webhooks_org_idx').on(t.orgId)],
);

export const webhookDeliveryStatusEnum = pgEnum('webhook_delivery_status', WEBHOOK_DELIVERY_STATUSES);

export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    webhookId: uuid('webhook_id')
      .notNull()
      .references(() => webhooks.id, { onDelete: 'cascade' }),
    event: text('event').notNull(),
    // Identifies the occurrence (e.g. deployment id + event), so one event is queued once per webhook.
    eventKey: text('event_key').notNull(),
    payload: jsonb('payload').notNull().$type<TStoredPayload>(),
    status: webhookDeliveryStatusEnum('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    createdAt: createdAt(),
    deliveredAt: ts('delivered_at'),
  },
  (t) => [uniqueIndex('webhook_deliveries_event_key').on(t.webhookId, t.eventKey), index('webhook_deliveries_webhook_idx').on(t.webhookId, t.createdAt)],
);

// ---------------------------------------------------------------- history and telemetry

export const auditEvents = pgTable(
  'audit_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    // Null only for events outside any organisation (first-run setup of the instance).
    orgId: uuid('org_id').references(() => organizations.id, { onDelete: 'cascade' }),
    actorUserId: uuid('actor_user_id').references(() => users.id, { onDelete: 'set null' }),
    actorTokenId: uuid('actor_token_id').references(() => apiTokens.id, { onDelete: 'set null' }),
    // Kept as text so the trail still reads right after the user or token is gone.
    actorLabel: text('actor_label').notNull(),
    action: text('action').notNull(),
    objectType: text('object_type').notNull(),
    objectId: text('object_id'),
    before: jsonb('before'),
    after: jsonb('after'),
    ip: text('ip'),
    at: ts('at').notNull().defaultNow(),
  },
  (t) => [index('audit_events_org_at_idx').on(t.orgId, t.at), index('audit_events_org_action_idx').on(t.orgId, t.action)],
);

export const metricResolutionEnum = pgEnum('metric_resolution', METRIC_RESOLUTIONS);

export const hostMetrics = pgTable(
  'host_metrics',
  {
    hostId: uuid('host_id')
      .notNull()
      .references(() => hosts.id, { onDelete: 'cascade' }),
    resolution: metricResolutionEnum('resolution').notNull().default('raw'),
    at: ts('at').notNull(),
    online: boolean('online').notNull().default(true),
    uptimeSeconds: bigint('uptime_seconds', { mode: 'number' }),
    load1: doublePrecision('load1'),
    memUsedBytes: bigint('mem_used_bytes', { mode: 'number' }),
    memTotalBytes: bigint('mem_total_bytes', { mode: 'number' }),
    storeFreeBytes: bigint('store_free_bytes', { mode: 'number' }),
    failedUnits: integer('failed_units'),
  },
  (t) => [primaryKey({ columns: [t.hostId, t.resolution, t.at] })],
);

// Fleet-wide counts sampled by the worker (raw every few minutes, rolled up to hours and
// days), for the overview's charts: online hosts, drift, failures over time.
export const fleetSamples = pgTable(
  'fleet_samples',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    resolution: metricResolutionEnum('resolution').notNull().default('raw'),
    at: ts('at').notNull(),
    total: integer('total').notNull(),
    online: integer('online').notNull(),
    drifted: integer('drifted').notNull(),
    failed: integer('failed').notNull(),
    needsReboot: integer('needs_reboot').notNull(),
    lowDisk: integer('low_disk').notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.resolution, t.at] })],
);

// How far each rollup has got (e.g. host metrics rolled into hours up to 14:00), so a
// rollup that did not run for a while catches up exactly, without rescanning history.
export const rollupMarks = pgTable('rollup_marks', {
  name: text('name').primaryKey(),
  upTo: ts('up_to').notNull(),
});

export const alertKindEnum = pgEnum('alert_kind', ALERT_KINDS);

export const alertRules = pgTable(
  'alert_rules',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    kind: alertKindEnum('kind').notNull(),
    // Minutes offline (host-offline), free MiB on the store (disk-low); unused otherwise.
    threshold: integer('threshold').notNull().default(0),
    // Only hosts with one of these tags; empty = every host.
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    enabled: boolean('enabled').notNull().default(true),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
  },
  (t) => [index('alert_rules_org_idx').on(t.orgId)],
);

// One row per rule and subject (a host, a deployment) while the condition holds: the
// de-duplication of alerts. Resolved rows stay as history.
export const alertFirings = pgTable(
  'alert_firings',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    ruleId: uuid('rule_id')
      .notNull()
      .references(() => alertRules.id, { onDelete: 'cascade' }),
    subject: text('subject').notNull(),
    hostId: uuid('host_id').references(() => hosts.id, { onDelete: 'cascade' }),
    summary: text('summary').notNull(),
    firedAt: ts('fired_at').notNull().defaultNow(),
    resolvedAt: ts('resolved_at'),
  },
  (t) => [
    uniqueIndex('alert_firings_open_key').on(t.ruleId, t.subject).where(sql`${t.resolvedAt} is null`),
    index('alert_firings_rule_idx').on(t.ruleId, t.firedAt),
  ],
);

// A person's named host-list filters.
export const savedFilters = pgTable(
  'saved_filters',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    query: jsonb('query').notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('saved_filters_user_name_key').on(t.orgId, t.userId, t.name)],
);

// Snapshots in hosts' snapshot stores (DESIGN.md §10), as their agents report them. The
// bytes stay on the host; `deleted_at` is set when the agent no longer has them.
export const stateSnapshots = pgTable(
  'state_snapshots',
  {
    // The agent's id for it, unique per host.
    id: uuid('id').notNull(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    hostId: uuid('host_id')
      .notNull()
      .references(() => hosts.id, { onDelete: 'cascade' }),
    unit: text('unit').notNull(),
    kind: text('kind').notNull(),
    hash: text('hash').notNull(),
    size: bigint('size', { mode: 'number' }).notNull(),
    generation: text('generation'),
    reason: text('reason').notNull(),
    deploymentId: uuid('deployment_id').references(() => deployments.id, { onDelete: 'set null' }),
    targetId: uuid('target_id'),
    takenAt: ts('taken_at').notNull(),
    deletedAt: ts('deleted_at'),
  },
  (t) => [primaryKey({ columns: [t.hostId, t.id] }), index('state_snapshots_host_idx').on(t.hostId, t.takenAt)],
);

export const restoreStatusEnum = pgEnum('restore_status', RESTORE_STATUSES);

// Restores an operator asked for: sent to the host's agent, which reports how it went.
export const snapshotRestores = pgTable(
  'snapshot_restores',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    hostId: uuid('host_id')
      .notNull()
      .references(() => hosts.id, { onDelete: 'cascade' }),
    snapshotId: uuid('snapshot_id').notNull(),
    unit: text('unit').notNull(),
    status: restoreStatusEnum('status').notNull().default('pending'),
    message: text('message').notNull().default(''),
    requestedBy: uuid('requested_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    finishedAt: ts('finished_at'),
  },
  (t) => [index('snapshot_restores_host_idx').on(t.hostId, t.createdAt)],
);

// Failed authentications per key (a client address, an account) in the key's current
// window, shared by every server process (lib/auth/limiter). One row per key, swept
// once it has expired: rows grow with failures, never with successes.
export const authFailures = pgTable(
  'auth_failures',
  {
    key: text('key').primaryKey(),
    count: integer('count').notNull(),
    lastAt: ts('last_at').notNull(),
    expiresAt: ts('expires_at').notNull(),
  },
  (t) => [index('auth_failures_expires_idx').on(t.expiresAt)],
);

// The transactional outbox (lib/events): a domain event written by the transaction that
// made the change, so its effects (webhooks, notifications, announcements, jobs) cannot be
// lost when a process dies after the commit. `done` lists the subscribers that already
// handled it, so a retry after a partial failure calls only the others.
export const outboxEvents = pgTable(
  'outbox_events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    seq: bigserial('seq', { mode: 'number' }).notNull(),
    type: text('type').notNull(),
    payload: jsonb('payload').notNull().$type<Record<string, unknown>>(),
    done: text('done').array().notNull().default(sql`'{}'::text[]`),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    createdAt: createdAt(),
    availableAt: ts('available_at').notNull().defaultNow(),
    deliveredAt: ts('delivered_at'),
  },
  (t) => [
    index('outbox_events_pending_idx').on(t.availableAt).where(sql`delivered_at is null`),
    index('outbox_events_delivered_idx').on(t.deliveredAt),
  ],
);

export type Organization = typeof organizations.$inferSelect;
export type User = typeof users.$inferSelect;
export type Membership = typeof memberships.$inferSelect;
export type Invitation = typeof invitations.$inferSelect;
export type ApiToken = typeof apiTokens.$inferSelect;
export type Host = typeof hosts.$inferSelect;
export type AuditEvent = typeof auditEvents.$inferSelect;
export type Role = (typeof roleEnum.enumValues)[number];
export type HostConfig = typeof hostConfigs.$inferSelect;
export type SharedModule = typeof modules.$inferSelect;
export type ModuleVersion = typeof moduleVersions.$inferSelect;
export type PackageIndexRow = typeof packageIndex.$inferSelect;
