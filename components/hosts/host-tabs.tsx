import { Tabs } from '@/components/ui/tabs';

export function HostTabs({ name, current }: { name: string; current: 'overview' | 'config' | 'history' }) {
  const tabs = [
    { id: 'overview', href: `/hosts/${name}`, label: 'Overview' },
    { id: 'config', href: `/hosts/${name}/config`, label: 'Configuration' },
    { id: 'history', href: `/hosts/${name}/history`, label: 'History' },
  ];
  return <Tabs tabs={tabs} current={current} />;
}
