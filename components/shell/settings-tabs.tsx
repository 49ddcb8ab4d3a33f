import { Tabs } from '@/components/ui/tabs';
import type { Caller } from '@/lib/auth/caller';
import { can } from '@/lib/auth/caller';

export function SettingsTabs({ caller, current }: { caller: Caller; current: 'general' | 'users' | 'tokens' | 'webhooks' | 'alerts' | 'policies' }) {
  const tabs = [
    { id: 'general', href: '/settings', label: 'General', show: true },
    { id: 'users', href: '/settings/users', label: 'Members', show: can(caller, 'users.read') },
    { id: 'tokens', href: '/settings/tokens', label: 'API tokens', show: can(caller, 'tokens.own') },
    { id: 'webhooks', href: '/settings/webhooks', label: 'Webhooks', show: can(caller, 'settings.manage') },
    // Everyone who sees the fleet reads the rules and recent alerts; settings.manage changes them.
    { id: 'alerts', href: '/settings/alerts', label: 'Alerts', show: can(caller, 'fleet.read') },
    { id: 'policies', href: '/settings/policies', label: 'Request policies', show: can(caller, 'settings.manage') },
  ].filter((t) => t.show);
  return <Tabs tabs={tabs} current={current} />;
}
