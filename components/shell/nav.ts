import type { Permission } from '@/lib/auth/permissions';

export type NavItem = { href: string; label: string; needs?: Permission; icon: 'overview' | 'audit' | 'settings' | 'users' | 'tokens' };

export const NAV: NavItem[] = [
  { href: '/', label: 'Overview', icon: 'overview' },
  { href: '/audit', label: 'Audit log', needs: 'audit.read', icon: 'audit' },
  { href: '/settings', label: 'Settings', icon: 'settings' },
  { href: '/settings/users', label: 'Members', needs: 'users.read', icon: 'users' },
  { href: '/settings/tokens', label: 'API tokens', needs: 'tokens.own', icon: 'tokens' },
];
