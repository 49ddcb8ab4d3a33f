// Shapes of hosts, configs and shared modules, shared by the REST API, the pages and tests.
import { z } from 'zod';
import { BUILD_STATUSES } from '@/lib/db/enums';
import { ZEmail } from '@/lib/orgs/schemas';
import { ZStateUnit, ZStateUnits } from '@/lib/state/schemas';

/** A DNS label: what NixOS accepts as networking.hostName. */
export const ZHostName = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'Use 1–63 lowercase letters, digits and hyphens, not starting or ending with a hyphen');

export const ZTag = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9][a-z0-9_.:-]{0,62}$/, 'Tags are 1–63 characters: lowercase letters, digits, and _ . : -');

export const ZTags = z.array(ZTag).max(50).transform((tags) => [...new Set(tags)].sort());

/** A nixpkgs attribute path such as `hello` or `python3Packages.requests`. */
export const ZPackageAttr = z
  .string()
  .trim()
  .regex(/^[A-Za-z_][A-Za-z0-9_'-]*(\.[A-Za-z_][A-Za-z0-9_'-]*)*$/, 'Not a package attribute name')
  .max(200);

export const ZPackages = z.array(ZPackageAttr).max(2000).transform((p) => [...new Set(p)].sort());

export const MAX_MODULE_BYTES = 512 * 1024;
export const ZModuleText = z.string().max(MAX_MODULE_BYTES, 'A module may be at most 512 KiB');

export const ZCreateHost = z.strictObject({
  name: ZHostName,
  tags: ZTags.optional(),
  assignees: z.array(ZEmail).max(100).optional(),
  module: ZModuleText.optional(),
  /** No config in Flotilla: its systems come from CI (lib/hosts/deploy-only.ts). */
  deployOnly: z.boolean().optional(),
}).refine((h) => !(h.deployOnly && h.module), { message: 'A deploy-only host has no config: leave out module', path: ['module'] });
export type TCreateHost = z.infer<typeof ZCreateHost>;

export const ZUpdateHost = z.strictObject({
  name: ZHostName.optional(),
  tags: ZTags.optional(),
  assignees: z.array(ZEmail).max(100).optional(),
});
export type TUpdateHost = z.infer<typeof ZUpdateHost>;

export const ZSaveConfig = z.strictObject({
  module: ZModuleText.optional(),
  packages: ZPackages.optional(),
  /** State units (lib/state/schemas.ts), emitted as `flotilla.state` in the generated module. */
  state: ZStateUnits.optional(),
  baseVersion: z.coerce.number().int().min(1),
  message: z.string().trim().max(500).optional(),
});
export type TSaveConfig = z.infer<typeof ZSaveConfig>;

/** Filters of the host list; what each means is lib/hosts/status-sql.ts. */
export const HOST_STATUS_FILTERS = ['online', 'offline', 'never-seen', 'up-to-date', 'drifted', 'failed', 'needs-reboot', 'low-disk', 'units-failed', 'outdated'] as const;
export type THostStatusFilter = (typeof HOST_STATUS_FILTERS)[number];

/** What the overview and the host list call each status filter. */
export const HOST_STATUS_LABELS: Record<THostStatusFilter, string> = {
  online: 'Online',
  offline: 'Offline',
  'never-seen': 'Never seen',
  'up-to-date': 'Up to date',
  drifted: 'Drifted',
  failed: 'Failed last deployment',
  'needs-reboot': 'Needs reboot',
  'low-disk': 'Low disk',
  'units-failed': 'Failed units',
  outdated: 'Outdated nixpkgs',
};

/** The columns the host list sorts by. */
export const HOST_SORT_KEYS = ['name', 'lastSeen', 'createdAt', 'agentVersion', 'storeFree'] as const;
export type THostSortKey = (typeof HOST_SORT_KEYS)[number];

export const ZHostListQuery = z.object({
  q: z.string().trim().max(100).optional(),
  tag: z.union([ZTag, z.array(ZTag)]).optional().transform((t) => (t === undefined ? [] : Array.isArray(t) ? t : [t])),
  status: z.enum(HOST_STATUS_FILTERS).optional(),
  /** Hosts whose agent reports this version ("none": never reported one). */
  agent: z.string().trim().max(50).optional(),
  sort: z.enum(HOST_SORT_KEYS).default('name'),
  dir: z.enum(['asc', 'desc']).default('asc'),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(500).default(50),
});
export type THostListQuery = z.infer<typeof ZHostListQuery>;

export const ZHostStatus = z.enum(['online', 'offline', 'never-seen']);

export const ZHostSummary = z.object({
  name: z.string(),
  tags: z.array(z.string()),
  online: z.boolean(),
  lastSeen: z.string().nullable(),
  currentSystem: z.string().nullable(),
  desiredSystem: z.string().nullable(),
  status: ZHostStatus,
  drifted: z.boolean(),
  needsReboot: z.boolean(),
  /** No config in Flotilla: systems come from CI (lib/hosts/deploy-only.ts). */
  deployOnly: z.boolean(),
  enrolled: z.boolean(),
  configVersion: z.number().nullable(),
  lastBuild: z.enum(BUILD_STATUSES).nullable(),
  agentVersion: z.string().nullable(),
  nixosVersion: z.string().nullable(),
  lastDeployPhase: z.string().nullable(),
  storeFreeBytes: z.number().nullable(),
  failedUnits: z.array(z.string()),
});
export type THostSummary = z.infer<typeof ZHostSummary>;

export const ZConfigVersion = z.object({
  version: z.number(),
  module: z.string(),
  packages: z.array(z.string()),
  state: z.array(ZStateUnit),
  author: z.string().nullable(),
  message: z.string(),
  createdAt: z.string(),
});
export type TConfigVersion = z.infer<typeof ZConfigVersion>;

export const ZBulkHosts = z
  .strictObject({
    hosts: z.array(ZHostName).min(1).max(10_000),
    addTags: ZTags.optional(),
    removeTags: ZTags.optional(),
    addPackages: ZPackages.optional(),
    message: z.string().trim().max(500).optional(),
  })
  .refine((b) => b.addTags?.length || b.removeTags?.length || b.addPackages?.length, 'Say what to change: addTags, removeTags or addPackages');
export type TBulkHosts = z.infer<typeof ZBulkHosts>;

export const ZModuleName = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'Use 1–63 lowercase letters, digits and hyphens');

export const ZCreateModule = z.strictObject({
  name: ZModuleName,
  tags: ZTags.default([]),
  text: ZModuleText,
  message: z.string().trim().max(500).optional(),
});
export type TCreateModule = z.infer<typeof ZCreateModule>;

export const ZSaveModule = z.strictObject({
  text: ZModuleText.optional(),
  tags: ZTags.optional(),
  baseVersion: z.coerce.number().int().min(1),
  message: z.string().trim().max(500).optional(),
});
export type TSaveModule = z.infer<typeof ZSaveModule>;
