// State units (DESIGN.md §10): data on a host that the Nix store does not hold. Declared
// in a host's structured settings or by the NixOS option `flotilla.state`, shipped in
// the closure as `$toplevel/flotilla/state.json`, and snapshotted by the agent before a
// switch. Shared by the agent, the server and the UI: nothing here may import server code.
import { z } from 'zod';

export const SNAPSHOT_POLICIES = ['every-switch', 'service-change', 'never'] as const;
export const SNAPSHOT_POLICY_LABELS: Record<(typeof SNAPSHOT_POLICIES)[number], string> = {
  'every-switch': 'Before every switch',
  'service-change': 'Before switches that change its service',
  never: 'Never',
};
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
export type TRestoreStatus = (typeof RESTORE_STATUSES)[number];

export function describeUnit(u: TStateUnit): string {
  if (u.kind === 'directory') return u.path;
  return `${u.kind === 'postgresql' ? 'PostgreSQL' : 'MySQL'} database ${u.database}`;
}
