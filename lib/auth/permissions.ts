// The permission table: which role may do what. Every route handler and server action
// declares one of these (or 'public' / 'authenticated'); tests walk them all.
import type { Role } from '@/lib/db/enums';

export const PERMISSIONS = {
  'fleet.read': 'See hosts, builds, deployments and fleet health',
  'hosts.write': 'Create, change and retire hosts; edit configs and shared modules',
  'builds.run': 'Start builds',
  'deployments.write': 'Start, pause, cancel and roll back deployments',
  'requests.create': 'File requests for the hosts assigned to you',
  'requests.review': 'Approve, deny and comment on requests',
  'cache.read': 'Fetch any path from the binary cache',
  'cache.write': 'Push closures into the binary cache (nix copy, flotilla push)',
  'metrics.read': 'Scrape the Prometheus metrics',
  'tokens.own': 'Create and revoke your own API tokens',
  'users.read': 'See the members of the organisation',
  'users.manage': 'Invite members, change roles, remove members',
  'settings.manage': 'Change organisation and fleet settings',
  'audit.read': 'Read the audit log',
} as const;

export type Permission = keyof typeof PERMISSIONS;
export const ALL_PERMISSIONS = Object.keys(PERMISSIONS) as Permission[];

export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  admin: ALL_PERMISSIONS,
  operator: [
    'fleet.read',
    'hosts.write',
    'builds.run',
    'deployments.write',
    'requests.create',
    'requests.review',
    'cache.read',
    'cache.write',
    'metrics.read',
    'tokens.own',
  ],
  requester: ['requests.create', 'tokens.own'],
  viewer: ['fleet.read', 'metrics.read', 'tokens.own'],
};

export const ROLE_LABELS: Record<Role, string> = {
  admin: 'Admin',
  operator: 'Operator',
  requester: 'Requester',
  viewer: 'Viewer',
};

export function roleAllows(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].includes(permission);
}

/** What a caller may do: its role's permissions, narrowed by a token's scopes. */
export function effectivePermissions(role: Role, scopes?: readonly string[]): Set<Permission> {
  const granted = ROLE_PERMISSIONS[role];
  return new Set(scopes ? granted.filter((p) => scopes.includes(p)) : granted);
}

export function isPermission(value: string): value is Permission {
  return value in PERMISSIONS;
}
