import { Tabs } from '@/components/ui/tabs';

export function HostTabs({ name, current }: { name: string; current: 'overview' | 'config' | 'history' | 'state' }) {
  const tabs = [
    { id: 'overview', href: `/hosts/${name}`, label: 'Overview' },
    { id: 'config', href: `/hosts/${name}/config`, label: 'Configuration' },
    { id: 'history', href: `/hosts/${name}/history`, label: 'History' },
    { id: 'state', href: `/hosts/${name}/state`, label: 'State' },
  ];
  return <Tabs tabs={tabs} current={current} />;
}
