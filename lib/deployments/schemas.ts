// Deployment requests and views, shared by the API, the UI and the CLI.
import { z } from 'zod';
import { ZStorePath } from '@/lib/agents/protocol';
import { ZHostName } from '@/lib/hosts/schemas';

export { ZStorePath } from '@/lib/agents/protocol';

/** Phases after which a target never moves again, and statuses after which a deployment never does. */
export const FINAL_TARGET_PHASES = ['succeeded', 'failed', 'rolled-back', 'skipped', 'cancelled'] as const;
export const FINAL_DEPLOYMENT_STATUSES = ['succeeded', 'failed', 'halted', 'cancelled', 'rolled-back'] as const;
export const isFinalDeployment = (status: string) => (FINAL_DEPLOYMENT_STATUSES as readonly string[]).includes(status);

export const ZRollout = z.strictObject({
  action: z.enum(['switch', 'boot']).default('switch'),
  confirmTimeoutSeconds: z.number().int().min(5).max(3600).default(120),
  switchTimeoutSeconds: z.number().int().min(10).max(7200).default(600),
});
export type TRollout = z.infer<typeof ZRollout>;

/** Cachix Deploy's deploy.json: {"agents": {"<host>": "/nix/store/…"}}, plus an optional rollout. */
export const ZCreateDeployment = z.strictObject({
  agents: z.record(ZHostName, ZStorePath).refine((a) => Object.keys(a).length > 0, 'Name at least one host'),
  rollout: ZRollout.partial().optional(),
});
export type TCreateDeployment = z.infer<typeof ZCreateDeployment>;

export const ZTargetView = z.object({
  id: z.uuid(),
  host: z.string(),
  storePath: z.string(),
  phase: z.string(),
  error: z.string().nullable(),
  rollbackReason: z.string().nullable(),
  sentAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});

export const ZDeploymentView = z.object({
  id: z.uuid(),
  status: z.string(),
  source: z.string(),
  strategy: z.unknown(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
  targets: z.array(ZTargetView),
});
