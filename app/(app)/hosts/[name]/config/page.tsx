import type { Metadata } from 'next';
import { HostTabs } from '@/components/hosts/host-tabs';
import { Card, EmptyState, PageHeader } from '@/components/ui/card';
import { can } from '@/lib/auth/caller';
import { pageCaller } from '@/lib/auth/page';
import { getConfig } from '@/lib/hosts/configs';
import { hostDetail } from '@/lib/hosts/detail';
import { hostPageGuard } from '../../host-page-guard';
import { ConfigEditor } from './config-editor';

export async function generateMetadata({ params }: { params: Promise<{ name: string }> }): Promise<Metadata> {
  return { title: `${(await params).name} · configuration` };
}

export default async function HostConfigPage({ params }: { params: Promise<{ name: string }> }) {
  const { caller } = await pageCaller('authenticated');
  const { name } = await params;
  // A deploy-only host has no config to load: its page says where its systems come from instead.
  const loaded = await hostPageGuard(caller, name, (host) => Promise.all([hostDetail(caller, host), host.deployOnly ? null : getConfig(host)]));
  if ('denied' in loaded) return loaded.denied;
  const [host, config] = loaded;
  if (!config) {
    return (
      <>
        <PageHeader title={host.name} description="Deploy-only host" />
        <HostTabs name={host.name} current="config" deployOnly />
        <Card>
          <EmptyState title="No configuration in Flotilla">
            {host.name} is deploy-only: its configuration lives in your own repository, CI builds and pushes its systems, and deploy.json deploys them.
          </EmptyState>
        </Card>
      </>
    );
  }
  return (
    <>
      <PageHeader title={host.name} description={`Configuration, version ${config.version} by ${config.author ?? 'unknown'} on ${config.createdAt.slice(0, 16).replace('T', ' ')} UTC`} />
      <HostTabs name={host.name} current="config" />
      <ConfigEditor host={host.name} initial={config} modules={host.modules} editable={can(caller, 'hosts.write')} canBuild={can(caller, 'builds.run')} />
    </>
  );
}
