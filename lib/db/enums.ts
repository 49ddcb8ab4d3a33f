// The values of every PostgreSQL enum (and of the one text column checked like an enum), as
// tuples written once: schema.ts makes the pg enums from them, so `pgEnum(…).enumValues` is
// the same array. They live apart from schema.ts because zod schemas and status sets that
// browser bundles import need the values without drizzle's table definitions.
export const ROLES = ['admin', 'operator', 'requester', 'viewer'] as const;
export const PACKAGE_INDEX_STATUSES = ['building', 'ready', 'failed'] as const;
export const BUILD_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export const DEPLOYMENT_STATUSES = ['pending', 'canary', 'rolling', 'paused', 'succeeded', 'failed', 'halted', 'cancelled', 'rolled-back'] as const;
export const DEPLOYMENT_SOURCES = ['ui', 'api', 'request', 'rollback'] as const;
export const TARGET_PHASES = [
  'pending',
  'sent',
  'downloading',
  'activating',
  'confirming',
  'needs-decision',
  'succeeded',
  'failed',
  'rolled-back',
  'skipped',
  'cancelled',
] as const;
export const REQUEST_KINDS = ['install', 'remove', 'change'] as const;
export const REQUEST_STATUSES = ['submitted', 'approved', 'denied', 'building', 'deploying', 'live', 'failed', 'withdrawn'] as const;
export const PACKAGE_POLICY_RULES = ['pre-approved', 'never-allowed'] as const;
export const WEBHOOK_FORMATS = ['generic', 'slack'] as const;
export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export const METRIC_RESOLUTIONS = ['raw', 'hour', 'day'] as const;
export const ALERT_KINDS = ['host-offline', 'deployment-failed', 'disk-low', 'units-failed'] as const;
export const RESTORE_STATUSES = ['pending', 'sent', 'running', 'succeeded', 'failed'] as const;

export type Role = (typeof ROLES)[number];
export type BuildStatus = (typeof BUILD_STATUSES)[number];
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];
export type DeploymentSource = (typeof DEPLOYMENT_SOURCES)[number];
export type TargetPhase = (typeof TARGET_PHASES)[number];
export type RequestKind = (typeof REQUEST_KINDS)[number];
export type RequestStatus = (typeof REQUEST_STATUSES)[number];
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];
export type AlertKind = (typeof ALERT_KINDS)[number];
export type RestoreStatus = (typeof RESTORE_STATUSES)[number];
