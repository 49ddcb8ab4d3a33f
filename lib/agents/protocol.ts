// The agent protocol (DESIGN.md §7): one JSON object per WebSocket message,
// `{type, id, …}`, validated with these schemas on both ends. The agent imports this
// file; nothing here may import server-only code.
import { z } from 'zod';
import { RESTORE_STATUSES, ZSnapshot, ZStateUnits } from '@/lib/state/schemas';

export const SUBPROTOCOL = 'flotilla.v1';
export const AGENT_WS_PATH = '/api/agent/ws';
/** Larger frames close the socket: no legitimate message comes near it. */
export const MAX_MESSAGE_BYTES = 256 * 1024;

const id = z.string().min(1).max(64);
/** A top-level Nix store path; the one definition the server, the agent and the CLI check against. */
export const ZStorePath = z.string().regex(/^\/nix\/store\/[0-9a-df-np-sv-z]{32}-[^/\s]+$/, 'Not a Nix store path').max(400);
const storePath = ZStorePath;
const text = (max: number) => z.string().max(max);

// ------------------------------------------------------------------ agent → server

export const ZHello = z.strictObject({
  type: z.literal('hello'),
  id,
  agentVersion: text(50),
  currentSystem: storePath.nullable(),
  bootedSystem: storePath.nullable(),
  nixosVersion: text(100).nullable(),
  capabilities: z.array(text(50)).max(50).default([]),
  // Activations finished or abandoned while disconnected, reported once on reconnect.
  pendingResults: z.array(z.lazy(() => ZResult)).max(20).default([]),
});

export const ZHeartbeat = z.strictObject({
  type: z.literal('heartbeat'),
  id,
  uptimeSeconds: z.number().nonnegative(),
  load1: z.number().nonnegative(),
  memUsedBytes: z.number().int().nonnegative(),
  memTotalBytes: z.number().int().nonnegative(),
  storeFreeBytes: z.number().int().nonnegative(),
  failedUnits: z.array(text(200)).max(500).nullable(),
  currentSystem: storePath.nullable(),
  bootedSystem: storePath.nullable(),
  nixosVersion: text(100).nullable(),
});

export const ZPhase = z.enum(['downloading', 'activating', 'confirming']);

export const ZProgress = z.strictObject({
  type: z.literal('progress'),
  id,
  deploymentId: z.uuid(),
  targetId: z.uuid(),
  phase: ZPhase,
  message: text(2000),
});

export const ZResult = z.strictObject({
  type: z.literal('result'),
  id,
  deploymentId: z.uuid(),
  targetId: z.uuid(),
  outcome: z.enum(['succeeded', 'failed', 'rolled-back']),
  reason: text(4000).nullable(),
  logsTail: text(16_000),
  currentSystem: storePath.nullable(),
});

/** One finding of a pre-switch check (DESIGN.md §10); `check` names the check that made it. */
export const ZCheckItem = z.strictObject({
  id: text(200),
  check: text(100),
  level: z.enum(['error', 'warning', 'info']),
  message: text(4000),
  resolutions: z.array(z.strictObject({ id: text(100), label: text(200) })).max(10).default([]),
});
export type TCheckItem = z.infer<typeof ZCheckItem>;

/** What the pre-switch checks found; `blocked`: an error stops the switch until someone decides. */
export const ZCheckReport = z.strictObject({
  type: z.literal('check-report'),
  id,
  deploymentId: z.uuid(),
  targetId: z.uuid(),
  items: z.array(ZCheckItem).max(100),
  blocked: z.boolean(),
});

/** The state units the running system declares and every snapshot in the host's store (the whole inventory, not a change). */
export const ZStateReport = z.strictObject({
  type: z.literal('state'),
  id,
  units: ZStateUnits,
  snapshots: z.array(ZSnapshot).max(500),
});

/** How a restore the server asked for is going; `message` says what happened, or why it failed. */
export const ZRestoreStatus = z.strictObject({
  type: z.literal('restore-status'),
  id,
  restoreId: z.uuid(),
  status: z.enum(RESTORE_STATUSES).exclude(['pending', 'sent']),
  message: text(4000),
});

export const ZAgentMessage = z.discriminatedUnion('type', [ZHello, ZHeartbeat, ZProgress, ZResult, ZCheckReport, ZStateReport, ZRestoreStatus]);
export type TAgentMessage = z.infer<typeof ZAgentMessage>;
export type THello = z.infer<typeof ZHello>;
export type THeartbeat = z.infer<typeof ZHeartbeat>;
export type TResult = z.infer<typeof ZResult>;
export type TCheckReport = z.infer<typeof ZCheckReport>;
export type TStateReport = z.infer<typeof ZStateReport>;
export type TRestoreStatus = z.infer<typeof ZRestoreStatus>;

// ------------------------------------------------------------------ server → agent

export const ZWelcome = z.strictObject({
  type: z.literal('welcome'),
  id,
  host: text(63),
  cacheUrl: z.url(),
  cachePublicKey: text(200),
  heartbeatSeconds: z.number().int().min(1).max(3600),
  serverTime: z.iso.datetime(),
});

export const ZDeploy = z.strictObject({
  type: z.literal('deploy'),
  id,
  deploymentId: z.uuid(),
  targetId: z.uuid(),
  storePath,
  action: z.enum(['switch', 'boot']),
  confirmTimeoutSeconds: z.number().int().min(1).max(3600),
  switchTimeoutSeconds: z.number().int().min(1).max(7200),
  healthChecks: z.array(z.strictObject({ name: text(100), command: z.array(text(1000)).min(1).max(50), timeoutSeconds: z.number().int().min(1).max(600) })).max(50),
});

export const ZConfirm = z.strictObject({ type: z.literal('confirm'), id, targetId: z.uuid() });
export const ZCancel = z.strictObject({ type: z.literal('cancel'), id, targetId: z.uuid() });
export const ZRollback = z.strictObject({ type: z.literal('rollback'), id, targetId: z.uuid(), toSystem: storePath });
export const ZPing = z.strictObject({ type: z.literal('ping'), id });
/** The resolutions chosen for a blocked target's error items (item id → resolution id; "abort" stops it). */
export const ZResolve = z.strictObject({ type: z.literal('resolve'), id, targetId: z.uuid(), choices: z.record(text(200), text(100)) });

/** Restore one snapshot of the host's store (an operator asked; the service named by the unit is stopped around it). */
export const ZRestore = z.strictObject({ type: z.literal('restore'), id, restoreId: z.uuid(), snapshotId: z.uuid() });

export const ZServerMessage = z.discriminatedUnion('type', [ZWelcome, ZDeploy, ZConfirm, ZCancel, ZRollback, ZPing, ZResolve, ZRestore]);
export type TServerMessage = z.infer<typeof ZServerMessage>;
export type TWelcome = z.infer<typeof ZWelcome>;
export type TDeploy = z.infer<typeof ZDeploy>;
export type TResolve = z.infer<typeof ZResolve>;
export type TRestore = z.infer<typeof ZRestore>;

/** Parses one frame; the error says what was wrong, for the close reason and the log. */
export function parseFrame<T>(schema: z.ZodType<T>, data: string): { ok: true; message: T } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return { ok: false, error: 'not JSON' };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, message: parsed.data };
  const issue = parsed.error.issues[0];
  return { ok: false, error: `invalid ${issue?.path.join('.') || 'message'}: ${issue?.message ?? 'malformed'}` };
}
