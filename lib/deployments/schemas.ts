// Deployment requests and views, shared by the API, the UI, the worker and the CLI.
import { z } from 'zod';
import { ZCheckItem, ZStorePath, type TCheckItem } from '@/lib/agents/protocol';
import { ZCheckItems, ZDecisionChoices, ZRollout, ZRolloutInput, type TDecisionChoices } from '@/lib/db/json-types';
import { ZHostName } from '@/lib/hosts/schemas';

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
  decision: ZDecisionChoices.nullable(),
  decidedBy: z.string().nullable(),
  decidedAt: z.string().nullable(),
});
export type TTargetView = z.infer<typeof ZTargetView>;

/** A target's stored check items; anything unreadable counts as none. */
export const parseCheckItems = (raw: unknown): TCheckItem[] => ZCheckItems.catch([]).parse(raw ?? []);
/** A target's stored decision: error item id → chosen resolution id. */
export const parseDecision = (raw: unknown): TDecisionChoices | null => ZDecisionChoices.nullable().catch(null).parse(raw ?? null);

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
