// The agent protocol (DESIGN.md §7): one JSON object per WebSocket message,
// `{type, id, …}`, validated with these schemas on both ends. The agent imports this
// file; nothing here may import server-only code.
import { z } from 'zod';

export const SUBPROTOCOL = 'flotilla.v1';
export const AGENT_WS_PATH = '/api/agent/ws';
/** Larger frames close the socket: no legitimate message comes near it. */
export const MAX_MESSAGE_BYTES = 256 * 1024;

const id = z.string().min(1).max(64).regex(/^[\x20-\x7e]+$/, 'printable ASCII only');
/** A top-level Nix store path; the one definition the server, the agent and the CLI check against. */
export const ZStorePath = z.string().regex(/^\/nix\/store\/[0-9a-df-np-sv-z]{32}-[^/\s]+$/, 'Not a Nix store path').max(400);
const storePath = ZStorePath;
// Names and versions with control characters mean nothing and NUL cannot be stored, so a
// frame carrying one is malformed (the socket closes with 1008, not the server with 1011).
// Free text (progress, reasons, log tails) is output of commands: escapes and colours stay,
// NUL becomes U+FFFD.
// eslint-disable-next-line no-control-regex -- the characters are the point
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const text = (max: number) => z.string().max(max).refine((s) => !CONTROL.test(s), 'control characters are not allowed');
// overwrite, not transform: the type stays a string, so these schemas also describe API responses (OpenAPI).
// eslint-disable-next-line no-control-regex -- NUL is the character replaced
const prose = (max: number) => z.string().max(max).overwrite((s) => s.replace(/\u0000/g, '\ufffd'));
/** A Nix binary cache public key, `name:base64(32-byte ed25519 key)`, as nix-store --generate-binary-cache-key writes it. */
export const ZNixPublicKey = z.string().regex(/^[A-Za-z0-9._+-]{1,100}:[A-Za-z0-9+/]{43}=$/, 'Not a Nix public key (name:base64)');

// ------------------------------------------------------------------ enrolment (HTTP, before the socket)

export const ZEnrollRequest = z.strictObject({
  token: z.string().min(10).max(200),
  agentVersion: z.string().max(50).optional(),
});

/** What the agent pins: the cache URL's origin and the fleet key come from here, once (docs/decisions/0017). */
export const ZEnrollResponse = z.object({
  host: z.string(),
  credential: z.string(),
  cache: z.object({ url: z.string(), publicKey: ZNixPublicKey }),
});

// ------------------------------------------------------------------ state units (DESIGN.md §10)
// Data on a host that the Nix store does not hold. Declared in a host's structured
// settings or by the NixOS option `flotilla.state`, shipped in the closure as
// `$toplevel/flotilla/state.json`, snapshotted by the agent before a switch and reported
// in `state`. lib/state/schemas.ts re-exports these for the server and the UI.

export const SNAPSHOT_POLICIES = ['every-switch', 'service-change', 'never'] as const;
export const STATE_KINDS = ['directory', 'postgresql', 'mysql'] as const;
export type TStateKind = (typeof STATE_KINDS)[number];

export const ZUnitName = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, 'Unit names are 1–63 characters: lowercase letters, digits and _ . -');
const absolutePath = z
  .string()
  .max(1000)
  .regex(/^\/[^\0]*$/, 'Use an absolute path')
  .refine((p) => !p.split('/').includes('..') && p.replace(/\/+$/, '') !== '', 'Not a path that can hold state');
const systemdService = z.string().regex(/^[A-Za-z0-9@_.:-]{1,200}\.service$/, 'Name a systemd service, e.g. postgresql.service');
const dbName = z.string().regex(/^[A-Za-z0-9_$-]{1,63}$/, 'Not a database name');
const userName = z.string().regex(/^[a-z_][a-z0-9_-]{0,31}\$?$/i, 'Not a user name');

const common = {
  name: ZUnitName,
  snapshot: z.enum(SNAPSHOT_POLICIES).default('every-switch'),
  /** Snapshots of this unit kept on the host; older ones are deleted after each new one. */
  keep: z.number().int().min(1).max(30).default(5),
  /** A rollback of the switch this snapshot was taken for restores it. */
  restoreOnRollback: z.boolean().default(false),
  /**
   * The service that uses the data: stopped around a restore (so it does not write meanwhile) and
   * compared between systems for the `service-change` policy. For a database, the application, not
   * the database server, which a dump and a restore need running.
   */
  service: systemdService.optional(),
};

/** Tools and how to reach a database server; the NixOS module fills these from the service's options. */
const database = {
  database: dbName,
  host: z.string().max(300).optional(),
  port: z.number().int().min(1).max(65535).optional(),
  user: userName.optional(),
  /** Run the dump and restore tools as this system user (peer authentication on a Unix socket). */
  runAs: userName.optional(),
  /** Directory holding the client tools; PATH when not set. */
  bin: absolutePath.optional(),
};

export const ZDirectoryUnit = z.strictObject({ ...common, kind: z.literal('directory'), path: absolutePath });
export const ZPostgresUnit = z.strictObject({
  ...common,
  ...database,
  kind: z.literal('postgresql'),
  /** The server's data directory and the version of the server the system runs: checked before a switch. */
  dataDir: absolutePath.optional(),
  serverVersion: z.string().max(50).optional(),
  passFile: absolutePath.optional(),
});
export const ZMysqlUnit = z.strictObject({
  ...common,
  ...database,
  kind: z.literal('mysql'),
  /** An option file with the password (`[client]` section), passed as --defaults-extra-file. */
  defaultsFile: absolutePath.optional(),
});

export const ZStateUnit = z.discriminatedUnion('kind', [ZDirectoryUnit, ZPostgresUnit, ZMysqlUnit]);
export type TStateUnit = z.infer<typeof ZStateUnit>;
export type TStateUnitInput = z.input<typeof ZStateUnit>;

export const ZStateUnits = z
  .array(ZStateUnit)
  .max(50)
  .superRefine((units, ctx) => {
    const seen = new Set<string>();
    for (const [i, u] of units.entries()) {
      if (seen.has(u.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `Two units are called "${u.name}"` });
      seen.add(u.name);
    }
  });

/** `$toplevel/flotilla/state.json`, as agent/module.nix and the stand-in write it. */
export const ZStateFile = z.object({ units: ZStateUnits.default([]) });

export const SNAPSHOT_REASONS = ['pre-switch', 'pre-restore', 'manual'] as const;

/** One snapshot in a host's snapshot store. `hash` is the SHA-256 of the stored bytes (its address). */
export const ZSnapshot = z.strictObject({
  id: z.uuid(),
  unit: ZUnitName,
  kind: z.enum(STATE_KINDS),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().nonnegative(),
  createdAt: z.iso.datetime(),
  /** The system that was running when it was taken: the data belongs to that generation. */
  generation: z.string().max(400).nullable(),
  reason: z.enum(SNAPSHOT_REASONS),
  deploymentId: z.uuid().nullable(),
  targetId: z.uuid().nullable(),
});
export type TSnapshot = z.infer<typeof ZSnapshot>;

export const RESTORE_STATUSES = ['pending', 'sent', 'running', 'succeeded', 'failed'] as const;
/** Where a restore stands (the `restore-status` message is TRestoreStatus). */
export type TRestoreState = (typeof RESTORE_STATUSES)[number];

export function describeUnit(u: TStateUnit): string {
  if (u.kind === 'directory') return u.path;
  return `${u.kind === 'postgresql' ? 'PostgreSQL' : 'MySQL'} database ${u.database}`;
}

// ------------------------------------------------------------------ agent → server

export const ZPhase = z.enum(['downloading', 'activating', 'confirming']);

/**
 * The activation this agent process is running right now, reported in `hello` after a
 * reconnect: the server follows it (no result, no second delivery) and its progress and
 * result arrive on the new socket. `needs-decision`: blocked on a pre-switch check.
 */
export const ZRunning = z.strictObject({
  targetId: z.uuid(),
  deploymentId: z.uuid(),
  phase: z.enum([...ZPhase.options, 'needs-decision']),
});
export type TRunning = z.infer<typeof ZRunning>;

export const ZHello = z.strictObject({
  type: z.literal('hello'),
  id,
  agentVersion: text(50),
  currentSystem: storePath.nullable(),
  bootedSystem: storePath.nullable(),
  // By NixOS's rule (agent/system.ts); absent from older agents.
  needsReboot: z.boolean().optional(),
  nixosVersion: text(100).nullable(),
  capabilities: z.array(text(50)).max(50).default([]),
  // Activations finished or abandoned while disconnected, reported once on reconnect.
  pendingResults: z.array(z.lazy(() => ZResult)).max(20).default([]),
  running: ZRunning.nullable().default(null),
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
  needsReboot: z.boolean().optional(),
  nixosVersion: text(100).nullable(),
});

export const ZProgress = z.strictObject({
  type: z.literal('progress'),
  id,
  deploymentId: z.uuid(),
  targetId: z.uuid(),
  phase: ZPhase,
  message: prose(2000),
});

export const ZResult = z.strictObject({
  type: z.literal('result'),
  id,
  deploymentId: z.uuid(),
  targetId: z.uuid(),
  // cancelled: a `cancel` stopped it before the system profile changed (the host runs what it ran).
  outcome: z.enum(['succeeded', 'failed', 'rolled-back', 'cancelled']),
  reason: prose(4000).nullable(),
  logsTail: prose(16_000),
  currentSystem: storePath.nullable(),
});

/** One finding of a pre-switch check (DESIGN.md §10); `check` names the check that made it. */
export const ZCheckItem = z.strictObject({
  id: text(200),
  check: text(100),
  level: z.enum(['error', 'warning', 'info']),
  message: prose(4000),
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
  message: prose(4000),
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

/**
 * "The key after `previousKey` is `newKey`", signed (ed25519, base64) by the secret half
 * of `previousKey` over `rotationPayload(statement)`. An agent pins a new key only through
 * one of these, verified against the key it already pins (docs/decisions/0017).
 * `previousKeyTrustedUntil`: until when the agent still accepts the previous key's
 * signatures (pushes under way during the rotation); null: not at all.
 */
export const ZKeyRotationStatement = z.strictObject({
  version: z.literal(1),
  previousKey: ZNixPublicKey,
  newKey: ZNixPublicKey,
  issuedAt: z.iso.datetime(),
  previousKeyTrustedUntil: z.iso.datetime().nullable(),
});
export const ZKeyRotation = z.strictObject({ statement: ZKeyRotationStatement, signature: z.string().regex(/^[A-Za-z0-9+/]{86}==$/, 'Not an ed25519 signature (base64)') });
export type TKeyRotationStatement = z.infer<typeof ZKeyRotationStatement>;
export type TKeyRotation = z.infer<typeof ZKeyRotation>;

/** The exact bytes a rotation's signature covers: a fixed text layout, so no JSON canonicalisation is needed on either side. */
export function rotationPayload(s: TKeyRotationStatement): Buffer {
  return Buffer.from(['flotilla-cache-key-rotation', String(s.version), s.previousKey, s.newKey, s.issuedAt, s.previousKeyTrustedUntil ?? '-'].join('\n'), 'utf8');
}

/**
 * The agent compares `cacheUrl` and `cachePublicKey` with what it pinned at enrolment and
 * never takes them from here: a welcome naming another origin or key is refused. The key
 * changes only through `keyRotations` (oldest first), each signed by the key before it.
 */
export const ZWelcome = z.strictObject({
  type: z.literal('welcome'),
  id,
  host: text(63),
  cacheUrl: z.url(),
  cachePublicKey: text(200),
  keyRotations: z.array(ZKeyRotation).max(50).default([]),
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
  // No health checks here: the server says what to activate, never what to run as root.
  // The agent runs the checks the closure ships and the host's own config lists.
});

export const ZConfirm = z.strictObject({ type: z.literal('confirm'), id, targetId: z.uuid() });
/** Stop a target: honoured until the system profile changes (then refused, in a `progress`); the result says `cancelled`. */
export const ZCancel = z.strictObject({ type: z.literal('cancel'), id, targetId: z.uuid() });
/**
 * Take a target that changed the system back to `toSystem`, the system it replaced (the agent
 * refuses any other): during the activation (after the switch, or while it waits for the
 * confirmation) or after it succeeded. The result says `rolled-back`.
 */
export const ZRollback = z.strictObject({ type: z.literal('rollback'), id, targetId: z.uuid(), toSystem: storePath });
/** The resolutions chosen for a blocked target's error items (item id → resolution id; "abort" stops it). */
export const ZResolve = z.strictObject({ type: z.literal('resolve'), id, targetId: z.uuid(), choices: z.record(text(200), text(100)) });

/** Restore one snapshot of the host's store (an operator asked; the service named by the unit is stopped around it). */
export const ZRestore = z.strictObject({ type: z.literal('restore'), id, restoreId: z.uuid(), snapshotId: z.uuid() });

export const ZServerMessage = z.discriminatedUnion('type', [ZWelcome, ZDeploy, ZConfirm, ZCancel, ZRollback, ZResolve, ZRestore]);
export type TServerMessage = z.infer<typeof ZServerMessage>;
export type TWelcome = z.infer<typeof ZWelcome>;
export type TDeploy = z.infer<typeof ZDeploy>;
export type TRollback = z.infer<typeof ZRollback>;
export type TCancel = z.infer<typeof ZCancel>;
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
