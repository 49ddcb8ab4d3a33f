import { Tabs } from '@/components/ui/tabs';

/** A deploy-only host has no config here, so no Configuration or History (of configs) tab. */
export function HostTabs({ name, current, deployOnly = false }: { name: string; current: 'overview' | 'config' | 'history' | 'state'; deployOnly?: boolean }) {
  const tabs = [
    { id: 'overview', href: `/hosts/${name}`, label: 'Overview' },
    ...(deployOnly
      ? []
      : [
          { id: 'config', href: `/hosts/${name}/config`, label: 'Configuration' },
          { id: 'history', href: `/hosts/${name}/history`, label: 'History' },
        ]),
    { id: 'state', href: `/hosts/${name}/state`, label: 'State' },
  ];
  return <Tabs tabs={tabs} current={current} />;
}
