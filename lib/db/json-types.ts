// The shapes of the JSON columns (schema.ts types them with `$type<…>()`), as zod schemas with
// their types, so what is stored and what is checked at the boundary are one definition. The
// domains import them from here (lib/db knows no domain); shapes that travel on the wire come
// from the protocol. Browser-safe: zod and the protocol only.
import { z } from 'zod';
import { ZCheckItem, ZHeartbeat, ZStateUnits } from '@/lib/agents/protocol';

// ---------------------------------------------------------------- hosts

/**
 * `hosts.last_health`: the host's last heartbeat (lib/agents/heartbeats.ts writes it). Every field
 * is optional at rest, since rows written before a field existed lack it.
 */
export const ZHostHealth = ZHeartbeat.pick({ uptimeSeconds: true, load1: true, memUsedBytes: true, memTotalBytes: true, storeFreeBytes: true, failedUnits: true })
  .extend({ at: z.string() })
  .partial();
export type THostHealth = z.infer<typeof ZHostHealth>;

/**
 * `host_configs.settings`: the structured settings beside the module text. A unit list that
 * no longer parses (an older shape) is left out rather than failing every read.
 */
export const ZHostSettings = z
  .object({ packages: z.array(z.string()).default([]), state: ZStateUnits.catch([]).default([]) })
  .catch({ packages: [], state: [] });
export type THostSettings = z.infer<typeof ZHostSettings>;
/** What a row holds: the fields may be missing (the column defaults to `{}`). */
export type THostSettingsAtRest = z.input<typeof ZHostSettings>;

// ---------------------------------------------------------------- builds

/** `builds.inputs`: what went into a build, so it can be reproduced and explained (lib/builds/inputs.ts). */
export const ZBuildInputs = z.object({
  system: z.string(),
  nixpkgs: z.object({ key: z.string(), flakeRef: z.string(), standin: z.boolean(), contentHash: z.string().optional() }),
  configVersion: z.number().int(),
  modules: z.array(z.object({ name: z.string(), version: z.number().int(), text: z.string() })),
  hostModule: z.string(),
  packages: z.array(z.string()),
  generatedModule: z.string(),
});
export type TBuildInputs = z.infer<typeof ZBuildInputs>;
/** What a row holds: the inputs, or the column's default `{}` (rows made before inputs were recorded, and tests). */
export type TBuildInputsAtRest = TBuildInputs | Record<string, never>;

const ZCounter = z.object({ done: z.number(), expected: z.number(), running: z.number().optional(), failed: z.number().optional() });

/** `builds.progress`: the build's stage and Nix's counters (lib/nix/progress.ts), rewritten about once a second. */
export const ZBuildProgress = z.object({
  stage: z.string().optional(),
  builds: ZCounter.optional(),
  copies: ZCounter.optional(),
  building: z.array(z.string()).optional(),
  phase: z.string().optional(),
});
export type TBuildProgress = z.infer<typeof ZBuildProgress>;

/** Packages added, removed and changed between two closures, and their sizes (lib/builds/closure.ts). */
export const ZClosureDiff = z.object({
  added: z.array(z.object({ pname: z.string(), version: z.string() })),
  removed: z.array(z.object({ pname: z.string(), version: z.string() })),
  changed: z.array(z.object({ pname: z.string(), from: z.string(), to: z.string() })),
  sizeBefore: z.number(),
  sizeAfter: z.number(),
  sizeDelta: z.number(),
});
export type TClosureDiff = z.infer<typeof ZClosureDiff>;

/** `builds.diff`: the closure against the host's previous build, and against what the host ran. */
export const ZStoredDiff = z
  .object({
    againstPrevious: ZClosureDiff.extend({ buildId: z.string() }).nullable(),
    againstCurrent: ZClosureDiff.extend({ storePath: z.string() }).nullable(),
  })
  .nullable();
export type TStoredDiff = z.infer<typeof ZStoredDiff>;

// ---------------------------------------------------------------- rollouts

/** A number of hosts, or a share of the deployment's hosts ("25%"). */
export const ZCountOrPercent = z.union([
  z.number().int().min(0).max(100_000),
  z.string().regex(/^(100|[1-9]?\d)%$/, 'A count, or a percentage such as "25%"'),
]);
export type TCountOrPercent = z.infer<typeof ZCountOrPercent>;

const ZTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'A time as HH:MM (UTC)');

/** Hosts with this tag are only updated inside the window (UTC; end before start wraps past midnight). */
export const ZMaintenanceWindow = z.strictObject({
  tag: z.string().min(1).max(64),
  start: ZTime,
  end: ZTime,
  /** 0 = Sunday … 6 = Saturday, the day the window starts; empty = every day. */
  days: z.array(z.number().int().min(0).max(6)).max(7).default([]),
});
export type TMaintenanceWindow = z.infer<typeof ZMaintenanceWindow>;

/**
 * A deployment's decision policy (lib/deployments/decision-policy.ts applies it): check item id
 * or pattern → resolution id, e.g. `{"migrate:*": "run-migration", "*": "abort"}`.
 */
export const ZDecisionPolicy = z
  .record(
    z
      .string()
      .min(1)
      .max(200)
      .regex(/^[A-Za-z0-9_.:@*-]+$/, 'An item id, or a pattern with * (e.g. "migrate:*")'),
    z.string().min(1).max(100),
  )
  .refine((p) => Object.keys(p).length <= 50, 'At most 50 rules');
export type TDecisionPolicy = z.infer<typeof ZDecisionPolicy>;

/**
 * How a deployment rolls out (DESIGN.md §8). Canaries go first and must all succeed and stay
 * healthy for watchSeconds; then waves of at most maxInFlight hosts. More than maxFailures failed
 * hosts (any failure among canaries) halt the rollout, or roll every touched host back.
 * These are the strategy's fields without defaults: what a request or the organisation's defaults may set.
 */
const rolloutFields = {
  canaries: ZCountOrPercent,
  maxInFlight: ZCountOrPercent,
  watchSeconds: z.number().int().min(0).max(86_400),
  maxFailures: ZCountOrPercent,
  onFailure: z.enum(['halt', 'rollback-all']),
  offlineHosts: z.enum(['wait', 'skip']),
  /** With offlineHosts "wait": how long after the start an offline host may still catch up. */
  offlineDeadlineSeconds: z.number().int().min(0).max(30 * 86_400),
  maintenanceWindows: z.array(ZMaintenanceWindow).max(50),
  action: z.enum(['switch', 'boot']),
  confirmTimeoutSeconds: z.number().int().min(5).max(3600),
  switchTimeoutSeconds: z.number().int().min(10).max(7200),
  /** Pre-switch check item id or pattern → resolution: decided at once where it covers every error item (decision-policy.ts). */
  decisions: ZDecisionPolicy,
};

/** `deployments.strategy`: the whole strategy, with every default filled in when the deployment was made. */
export const ZRollout = z.strictObject({
  canaries: rolloutFields.canaries.default(1),
  maxInFlight: rolloutFields.maxInFlight.default('25%'),
  watchSeconds: rolloutFields.watchSeconds.default(60),
  maxFailures: rolloutFields.maxFailures.default(0),
  onFailure: rolloutFields.onFailure.default('halt'),
  offlineHosts: rolloutFields.offlineHosts.default('wait'),
  offlineDeadlineSeconds: rolloutFields.offlineDeadlineSeconds.default(86_400),
  maintenanceWindows: rolloutFields.maintenanceWindows.default([]),
  action: rolloutFields.action.default('switch'),
  confirmTimeoutSeconds: rolloutFields.confirmTimeoutSeconds.default(120),
  switchTimeoutSeconds: rolloutFields.switchTimeoutSeconds.default(600),
  decisions: rolloutFields.decisions.default({}),
});
export type TRollout = z.infer<typeof ZRollout>;
/** What a row holds: readers parse it with ZRollout, which fills in fields added since it was written. */
export type TRolloutAtRest = z.input<typeof ZRollout>;

/**
 * `fleet_settings.rollout_defaults`, and what a request asks for: only what was given, no
 * defaults filled in, so a request's `{canaries: 2}` keeps the organisation's other defaults
 * (ZRollout.partial() would fill every field with the built-in ones).
 */
export const ZRolloutInput = z.strictObject(rolloutFields).partial();
export type TRolloutInput = z.infer<typeof ZRolloutInput>;

// ---------------------------------------------------------------- deployment targets

/** `deployment_targets.checks`: the pre-switch check items the agent reported. */
export const ZCheckItems = z.array(ZCheckItem);
export type TCheckItems = z.infer<typeof ZCheckItems>;

/** `deployment_targets.decision`: the resolution chosen for each blocking item (item id → resolution id). */
export const ZDecisionChoices = z.record(z.string(), z.string());
export type TDecisionChoices = z.infer<typeof ZDecisionChoices>;

// ---------------------------------------------------------------- requests and notifications

/** `requests.payload`: the package of an install or removal, the text of a change in words. */
export const ZRequestPayload = z.object({ package: z.string().optional(), text: z.string().optional() });
export type TRequestPayload = z.infer<typeof ZRequestPayload>;

/** `webhook_deliveries.payload`: what the body is built from at send time (lib/notify/deliver.ts). */
export const ZStoredPayload = z.object({
  summary: z.string(),
  url: z.string().optional(),
  data: z.record(z.string(), z.unknown()),
});
export type TStoredPayload = z.infer<typeof ZStoredPayload>;
