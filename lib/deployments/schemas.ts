// Deployment requests and views, shared by the API, the UI, the worker and the CLI.
import { z } from 'zod';
import { ZCheckItem, ZStorePath, type TCheckItem } from '@/lib/agents/protocol';
import { ZHostName } from '@/lib/hosts/schemas';
import { ZDecisionPolicy } from './decision-policy';

export { ZStorePath } from '@/lib/agents/protocol';

/** Phases after which a target never moves again, and statuses after which a deployment never does. */
export const FINAL_TARGET_PHASES = ['succeeded', 'failed', 'rolled-back', 'skipped', 'cancelled'] as const;
export const FINAL_DEPLOYMENT_STATUSES = ['succeeded', 'failed', 'halted', 'cancelled', 'rolled-back'] as const;
/** A target is in flight from the moment it is sent until it ends: it holds one of maxInFlight's places. */
export const IN_FLIGHT_PHASES = ['sent', 'downloading', 'activating', 'confirming', 'needs-decision'] as const;
/** Statuses the rollout driver still moves. */
export const ACTIVE_DEPLOYMENT_STATUSES = ['pending', 'canary', 'rolling'] as const;
export const FAILED_TARGET_PHASES = ['failed', 'rolled-back'] as const;

export const isFinalDeployment = (status: string) => (FINAL_DEPLOYMENT_STATUSES as readonly string[]).includes(status);
export const isFinalPhase = (phase: string) => (FINAL_TARGET_PHASES as readonly string[]).includes(phase);
export const isFailedPhase = (phase: string) => (FAILED_TARGET_PHASES as readonly string[]).includes(phase);

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
 * How a deployment rolls out (DESIGN.md §8). Canaries go first and must all succeed and stay
 * healthy for watchSeconds; then waves of at most maxInFlight hosts. More than maxFailures failed
 * hosts (any failure among canaries) halt the rollout, or roll every touched host back.
 */
/** The strategy's fields without defaults: what a request or the organisation's defaults may set. */
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
/**
 * Only what was given: no defaults filled in, so a request's `{canaries: 2}` keeps the
 * organisation's other defaults (ZRollout.partial() would fill every field with the built-in ones).
 */
export const ZRolloutInput = z.strictObject(rolloutFields).partial();
export type TRolloutInput = z.infer<typeof ZRolloutInput>;

/** Cachix Deploy's deploy.json: {"agents": {"<host>": "/nix/store/…"}}, plus an optional rollout. */
export const ZDeployJson = z.strictObject({
  agents: z.record(ZHostName, ZStorePath).refine((a) => Object.keys(a).length > 0, 'Name at least one host'),
  rollout: ZRolloutInput.optional(),
});

/** Hosts deployed from their current config: built first (identical inputs reuse an earlier build). */
export const ZDeployHosts = z.strictObject({
  hosts: z.array(ZHostName).min(1).max(10_000),
  /** true: build what is not built yet; false: deploy each host's newest successful build. */
  build: z.boolean().default(true),
  rollout: ZRolloutInput.optional(),
});

export const ZCreateDeployment = z.union([ZDeployJson, ZDeployHosts]);
export type TCreateDeployment = z.infer<typeof ZCreateDeployment>;

export const ZTargetView = z.object({
  id: z.uuid(),
  host: z.string(),
  storePath: z.string().nullable(),
  previousSystem: z.string().nullable(),
  buildId: z.uuid().nullable(),
  wave: z.number().int(),
  phase: z.string(),
  /** Why a pending target is not going yet: its host is offline, or outside its maintenance window. */
  waiting: z.string().nullable(),
  error: z.string().nullable(),
  rollbackReason: z.string().nullable(),
  releasedAt: z.string().nullable(),
  sentAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  /** What the pre-switch checks found (empty before they ran), and the resolution chosen per error item. */
  checks: z.array(ZCheckItem),
  decision: z.record(z.string(), z.string()).nullable(),
  decidedBy: z.string().nullable(),
  decidedAt: z.string().nullable(),
});
export type TTargetView = z.infer<typeof ZTargetView>;

/** A target's stored check items; anything unreadable counts as none. */
export const parseCheckItems = (raw: unknown): TCheckItem[] => z.array(ZCheckItem).catch([]).parse(raw ?? []);
/** A target's stored decision: error item id → chosen resolution id. */
export const parseDecision = (raw: unknown): Record<string, string> | null => z.record(z.string(), z.string()).nullable().catch(null).parse(raw ?? null);

export const ZDeploymentView = z.object({
  id: z.uuid(),
  status: z.string(),
  source: z.string(),
  strategy: ZRollout,
  reason: z.string().nullable(),
  rollbackOf: z.uuid().nullable(),
  rolledBackBy: z.uuid().nullable(),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  watchUntil: z.string().nullable(),
  counts: z.record(z.string(), z.number()),
  targets: z.array(ZTargetView),
});
export type TDeploymentView = z.infer<typeof ZDeploymentView>;

export const ZWavePlan = z.object({
  strategy: ZRollout,
  waves: z.array(z.object({ wave: z.number().int(), canary: z.boolean(), hosts: z.array(z.object({ name: z.string(), online: z.boolean(), window: z.string().nullable() })) })),
  limits: z.object({ canaries: z.number().int(), maxInFlight: z.number().int(), maxFailures: z.number().int() }),
});
export type TWavePlan = z.infer<typeof ZWavePlan>;
