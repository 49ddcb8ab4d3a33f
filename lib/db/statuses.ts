// Sets of enum values that code branches on ("is this deployment over?", "which targets hold a
// place in flight?"), written once. Each `satisfies` its enum's value type, so a value that is
// not in the enum is a type error; statuses.test.ts checks the same at run time, and that the
// sets meant to split an enum in two do. Browser-safe: only the value tuples of enums.ts.
import type { BuildStatus, DeploymentStatus, RequestStatus, RestoreStatus, TargetPhase } from './enums';

/** A type guard: `value` is one of `values`. */
export const isOneOf =
  <T extends string>(values: readonly T[]) =>
  (value: string): value is T =>
    (values as readonly string[]).includes(value);

// ---------------------------------------------------------------- builds

/** Builds that never change again. */
export const FINAL_BUILD_STATUSES = ['succeeded', 'failed', 'cancelled'] as const satisfies readonly BuildStatus[];
/** Builds that are, or will be, usable as they are: a second request for the same inputs gets one of these. */
export const LIVE_BUILD_STATUSES = ['queued', 'running', 'succeeded'] as const satisfies readonly BuildStatus[];

// ---------------------------------------------------------------- deployments

/** Statuses after which a deployment never moves again. */
export const FINAL_DEPLOYMENT_STATUSES = ['succeeded', 'failed', 'halted', 'cancelled', 'rolled-back'] as const satisfies readonly DeploymentStatus[];
/** Every other status: the deployment may still move (the complement of FINAL_DEPLOYMENT_STATUSES). */
export const UNFINISHED_DEPLOYMENT_STATUSES = ['pending', 'canary', 'rolling', 'paused'] as const satisfies readonly DeploymentStatus[];
/** Statuses the rollout driver still moves (a paused one waits for a person). */
export const ACTIVE_DEPLOYMENT_STATUSES = ['pending', 'canary', 'rolling'] as const satisfies readonly DeploymentStatus[];
/** Statuses in which targets are released and sent. */
export const ROLLING_DEPLOYMENT_STATUSES = ['canary', 'rolling'] as const satisfies readonly DeploymentStatus[];
/** Final statuses that count as a failed deployment whatever its hosts did ('rolled-back' counts only when a host failed: lib/health/overview.ts). */
export const FAILED_DEPLOYMENT_STATUSES = ['failed', 'halted'] as const satisfies readonly DeploymentStatus[];

export const isFinalDeployment = isOneOf(FINAL_DEPLOYMENT_STATUSES);

// ---------------------------------------------------------------- deployment targets

/** Phases after which a target never moves again. */
export const FINAL_TARGET_PHASES = ['succeeded', 'failed', 'rolled-back', 'skipped', 'cancelled'] as const satisfies readonly TargetPhase[];
/** A target is in flight from the moment it is sent until it ends: it holds one of maxInFlight's places. */
export const IN_FLIGHT_TARGET_PHASES = ['sent', 'downloading', 'activating', 'confirming', 'needs-decision'] as const satisfies readonly TargetPhase[];
/** Not final yet: waiting for its turn, or in flight (the complement of FINAL_TARGET_PHASES). */
export const OPEN_TARGET_PHASES = ['pending', ...IN_FLIGHT_TARGET_PHASES] as const satisfies readonly TargetPhase[];
/** Final phases that count as a failed host. */
export const FAILED_TARGET_PHASES = ['failed', 'rolled-back'] as const satisfies readonly TargetPhase[];
/** Final phases of targets that were never sent. */
export const NOT_STARTED_TARGET_PHASES = ['skipped', 'cancelled'] as const satisfies readonly TargetPhase[];

export const isFinalPhase = isOneOf(FINAL_TARGET_PHASES);
export const isFailedPhase = isOneOf(FAILED_TARGET_PHASES);
export const isInFlightPhase = isOneOf(IN_FLIGHT_TARGET_PHASES);

// ---------------------------------------------------------------- requests

/** Statuses after which a request never moves again. */
export const FINAL_REQUEST_STATUSES = ['denied', 'live', 'failed', 'withdrawn'] as const satisfies readonly RequestStatus[];
/** Every other status: waiting for a review or on its way (the complement of FINAL_REQUEST_STATUSES). */
export const OPEN_REQUEST_STATUSES = ['submitted', 'approved', 'building', 'deploying'] as const satisfies readonly RequestStatus[];
/** Approved and not live yet: a deployment carries it forward. */
export const UNDER_WAY_REQUEST_STATUSES = ['approved', 'building', 'deploying'] as const satisfies readonly RequestStatus[];

export const isFinalRequest = isOneOf(FINAL_REQUEST_STATUSES);

// ---------------------------------------------------------------- snapshot restores

/** A restore not finished yet: a host has at most one. */
export const OPEN_RESTORE_STATUSES = ['pending', 'sent', 'running'] as const satisfies readonly RestoreStatus[];
