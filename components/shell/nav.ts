import type { Permission } from '@/lib/auth/permissions';

/** `needs`: shown only to callers with the permission; `without`: only to callers lacking it. */
export type NavItem = {
  href: string;
  label: string;
  needs?: Permission;
  without?: Permission;
  icon: 'overview' | 'hosts' | 'inventory' | 'modules' | 'builds' | 'deployments' | 'decisions' | 'requests' | 'audit' | 'settings' | 'users' | 'tokens';
};

export const NAV: NavItem[] = [
  { href: '/', label: 'Overview', needs: 'fleet.read', icon: 'overview' },
  // The same home, for those who see no fleet (requesters): it shows their own machines.
  { href: '/', label: 'My machines', without: 'fleet.read', icon: 'hosts' },
  { href: '/hosts', label: 'Hosts', needs: 'fleet.read', icon: 'hosts' },
  { href: '/inventory', label: 'Inventory', needs: 'fleet.read', icon: 'inventory' },
  { href: '/modules', label: 'Shared modules', needs: 'fleet.read', icon: 'modules' },
  { href: '/builds', label: 'Builds', needs: 'fleet.read', icon: 'builds' },
  { href: '/deployments', label: 'Deployments', needs: 'fleet.read', icon: 'deployments' },
  // Targets waiting for someone to choose how a blocked pre-switch check is resolved.
  { href: '/decisions', label: 'Decisions', needs: 'fleet.read', icon: 'decisions' },
  // Everyone: requesters see their own requests there, reviewers the queue, viewers the numbers.
  { href: '/requests', label: 'Requests', icon: 'requests' },
  { href: '/audit', label: 'Audit log', needs: 'audit.read', icon: 'audit' },
  { href: '/settings', label: 'Settings', icon: 'settings' },
  { href: '/settings/users', label: 'Members', needs: 'users.read', icon: 'users' },
  { href: '/settings/tokens', label: 'API tokens', needs: 'tokens.own', icon: 'tokens' },
];
