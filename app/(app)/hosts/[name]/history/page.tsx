import type { Metadata } from 'next';
import Link from 'next/link';
import { HostTabs } from '@/components/hosts/host-tabs';
import { buttonClass } from '@/components/ui/button';
import { Card, CardHeader, PageHeader } from '@/components/ui/card';
import { Table, TBody, Td, Th } from '@/components/ui/table';
import { can } from '@/lib/auth/caller';
import { pageCaller } from '@/lib/auth/page';
import { getConfig, listVersions } from '@/lib/hosts/configs';
import { hostPageGuard } from '../../host-page-guard';
import { VersionDiff, RevertButton } from './history-client';

export async function generateMetadata({ params }: { params: Promise<{ name: string }> }): Promise<Metadata> {
  return { title: `${(await params).name} · history` };
}

export default async function HistoryPage({ params, searchParams }: { params: Promise<{ name: string }>; searchParams: Promise<{ a?: string; b?: string }> }) {
  const { caller } = await pageCaller('authenticated');
  const { name } = await params;
  const { a, b } = await searchParams;
  const versions = await hostPageGuard(caller, name, (host) => listVersions(host));
  if ('denied' in versions) return versions.denied;
  const latest = versions[0]?.version ?? 1;
  const va = Number(a) || undefined;
  const vb = Number(b) || undefined;
  const compared = va && vb ? await hostPageGuard(caller, name, (host) => Promise.all([getConfig(host, va), getConfig(host, vb)])) : undefined;
  const write = can(caller, 'hosts.write');

  return (
    <>
      <PageHeader title={name} description={`${versions.length} versions; every save is kept.`} />
      <HostTabs name={name} current="history" />
      {compared && !('denied' in compared) ? (
        <Card className="mb-6">
          <CardHeader
            title={`Version ${compared[0].version} → version ${compared[1].version}`}
            actions={
              <Link href={`/hosts/${name}/history`} className={buttonClass('ghost', 'sm')}>
                Close
              </Link>
            }
          />
          <div className="p-4">
            <VersionDiff a={compared[0]} b={compared[1]} />
          </div>
        </Card>
      ) : null}
      <Card>
        <form method="get">
          <Table>
            <thead>
              <tr>
                {/* Visible names for the two radio columns: which version the diff starts from and which it ends at. */}
                <Th className="w-14 text-center">From</Th>
                <Th className="w-14 text-center">To</Th>
                <Th>Version</Th>
                <Th>Message</Th>
                <Th>Author</Th>
                <Th>When (UTC)</Th>
                <Th>Packages</Th>
                <Th />
              </tr>
            </thead>
            <TBody>
              {versions.map((v, i) => (
                <tr key={v.version} data-testid={`version-${v.version}`}>
                  <Td className="text-center">
                    <input type="radio" name="a" value={v.version} defaultChecked={va ? va === v.version : i === 1} aria-label={`Compare from version ${v.version}`} title={`From version ${v.version}`} />
                  </Td>
                  <Td className="text-center">
                    <input type="radio" name="b" value={v.version} defaultChecked={vb ? vb === v.version : i === 0} aria-label={`Compare to version ${v.version}`} title={`To version ${v.version}`} />
                  </Td>
                  <Td className="font-medium">v{v.version}</Td>
                  <Td className="max-w-sm truncate">{v.message || <span className="text-slate-400">no message</span>}</Td>
                  <Td className="text-slate-500">{v.author ?? '—'}</Td>
                  <Td className="text-slate-500 tabular-nums">{v.createdAt.slice(0, 16).replace('T', ' ')}</Td>
                  <Td className="text-slate-500">{v.packageCount}</Td>
                  <Td className="text-right">{write && v.version !== latest ? <RevertButton host={name} toVersion={v.version} baseVersion={latest} /> : null}</Td>
                </tr>
              ))}
            </TBody>
          </Table>
          {versions.length > 1 ? (
            <div className="border-t border-slate-200 p-3 dark:border-slate-800">
              <button type="submit" className={buttonClass('secondary', 'sm')}>
                Compare selected versions
              </button>
              <span className="ml-3 text-xs text-slate-500 dark:text-slate-400">Pick a version in From and one in To.</span>
            </div>
          ) : null}
        </form>
      </Card>
    </>
  );
}
