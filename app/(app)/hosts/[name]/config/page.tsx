import type { Metadata } from 'next';
import { HostTabs } from '@/components/hosts/host-tabs';
import { PageHeader } from '@/components/ui/card';
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
  const loaded = await hostPageGuard(caller, name, (host) => Promise.all([hostDetail(caller, host), getConfig(host)]));
  if ('denied' in loaded) return loaded.denied;
  const [host, config] = loaded;
  return (
    <>
      <PageHeader title={host.name} description={`Configuration, version ${config.version} by ${config.author ?? 'unknown'} on ${config.createdAt.slice(0, 16).replace('T', ' ')} UTC`} />
      <HostTabs name={host.name} current="config" />
      <ConfigEditor host={host.name} initial={config} modules={host.modules} editable={can(caller, 'hosts.write')} />
    </>
  );
}
