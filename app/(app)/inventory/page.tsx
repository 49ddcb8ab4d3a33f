import type { Metadata } from 'next';
import Form from 'next/form';
import Link from 'next/link';
import { z } from 'zod';
import { HostStatusBadge } from '@/components/hosts/status-badge';
import { Forbidden } from '@/components/shell/forbidden';
import { Button, buttonClass } from '@/components/ui/button';
import { Card, CardHeader, EmptyState, PageHeader } from '@/components/ui/card';
import { Input } from '@/components/ui/form';
import { Table, TBody, Td, Th } from '@/components/ui/table';
import { pageCaller } from '@/lib/auth/page';
import { hostsRunningExactly, mostInstalled, packageVersions, parseInventoryQuery, searchInventory } from '@/lib/health/inventory';
import type { Caller } from '@/lib/auth/caller';
import { hostStatus } from '@/lib/hosts/inventory';

export const metadata: Metadata = { title: 'Software inventory' };

const PACKAGES_PER_PAGE = 50;
const HOSTS_PER_PAGE = 100;

const page = z.coerce.number().int().min(1).max(10_000).catch(1).default(1);
const ZSearch = z.object({
  q: z.string().trim().max(200).catch('').default(''),
  page,
  package: z.string().trim().min(1).max(200).optional().catch(undefined),
  version: z.string().max(100).optional().catch(undefined),
  hosts: page,
});
type TSearch = z.infer<typeof ZSearch>;

function hrefFor(s: Partial<TSearch>) {
  const params = new URLSearchParams();
  if (s.q) params.set('q', s.q);
  if (s.page && s.page > 1) params.set('page', String(s.page));
  if (s.package) params.set('package', s.package);
  if (s.package && s.version !== undefined) params.set('version', s.version);
  if (s.package && s.hosts && s.hosts > 1) params.set('hosts', String(s.hosts));
  const q = params.toString();
  return q ? `/inventory?${q}` : '/inventory';
}

function Pager({ label, previous, next }: { label: string; previous: string | null; next: string | null }) {
  return (
    <div className="flex items-center justify-between border-t border-slate-200 px-5 py-3 text-sm dark:border-slate-800">
      <span className="text-slate-500 dark:text-slate-400">{label}</span>
      <div className="flex gap-2">
        {previous ? (
          <Link className={buttonClass('secondary', 'sm')} href={previous}>
            Previous
          </Link>
        ) : null}
        {next ? (
          <Link className={buttonClass('secondary', 'sm')} href={next}>
            Next
          </Link>
        ) : null}
      </div>
    </div>
  );
}

async function HostsRunning({ orgId, search }: { orgId: string; search: TSearch & { package: string } }) {
  const version = search.version ?? '';
  const { hosts, total } = await hostsRunningExactly(orgId, search.package, version, { limit: HOSTS_PER_PAGE, offset: (search.hosts - 1) * HOSTS_PER_PAGE });
  const pages = Math.max(1, Math.ceil(total / HOSTS_PER_PAGE));
  return (
    <Card className="mt-6">
      <CardHeader
        title={`Hosts running ${search.package} ${version}`}
        description={total === 1 ? '1 host runs it in its current system.' : `${total} hosts run it in their current systems.`}
        actions={
          <Link href={hrefFor({ ...search, package: undefined })} className={buttonClass('ghost', 'sm')}>
            Close
          </Link>
        }
      />
      {hosts.length === 0 ? (
        <EmptyState title="No host runs this version now" />
      ) : (
        <Table>
          <thead>
            <tr>
              <Th>Host</Th>
              <Th>Status</Th>
            </tr>
          </thead>
          <TBody>
            {hosts.map((h) => (
              <tr key={h.host} data-testid={`inventory-host-${h.host}`}>
                <Td>
                  <Link href={`/hosts/${h.host}`} className="font-medium text-brand-600 hover:underline dark:text-blue-300">
                    {h.host}
                  </Link>
                </Td>
                <Td>
                  <HostStatusBadge status={hostStatus(h)} />
                </Td>
              </tr>
            ))}
          </TBody>
        </Table>
      )}
      {pages > 1 ? (
        <Pager
          label={`page ${search.hosts} of ${pages}`}
          previous={search.hosts > 1 ? hrefFor({ ...search, hosts: search.hosts - 1 }) : null}
          next={search.hosts < pages ? hrefFor({ ...search, hosts: search.hosts + 1 }) : null}
        />
      ) : null}
    </Card>
  );
}

const hostsLabel = (n: number) => `${n} ${n === 1 ? 'host' : 'hosts'}`;

/** Browsing without a name: the packages the most hosts run, each opening its versions. */
async function MostInstalled({ caller, search }: { caller: Caller; search: TSearch }) {
  // One more than a page tells whether there is a next one.
  const found = await mostInstalled(caller, PACKAGES_PER_PAGE + 1, (search.page - 1) * PACKAGES_PER_PAGE);
  const rows = found.slice(0, PACKAGES_PER_PAGE);
  return (
    <Card className="mt-6">
      <CardHeader title="Most installed" description="Packages by the number of hosts whose current system has them, any version. Open one to see its versions." />
      {rows.length === 0 ? (
        <EmptyState title="No packages in the hosts' current systems">Packages appear here once hosts run a system Flotilla built with some.</EmptyState>
      ) : (
        <Table>
          <thead>
            <tr>
              <Th>Package</Th>
              <Th className="text-right">Versions</Th>
              <Th className="text-right">Hosts</Th>
            </tr>
          </thead>
          <TBody>
            {rows.map((r) => (
              <tr key={r.pname} data-testid={`installed-${r.pname}`} className={r.pname === search.package ? 'bg-brand-50/60 dark:bg-slate-800/60' : undefined}>
                <Td>
                  <Link href={hrefFor({ page: search.page, package: r.pname })} className="font-medium text-brand-600 hover:underline dark:text-blue-300" title={`The versions of ${r.pname} the fleet runs`}>
                    {r.pname}
                  </Link>
                </Td>
                <Td className="text-right tabular-nums">{r.versions}</Td>
                <Td className="text-right tabular-nums">{hostsLabel(r.hosts)}</Td>
              </tr>
            ))}
          </TBody>
        </Table>
      )}
      {search.page > 1 || found.length > PACKAGES_PER_PAGE ? (
        <Pager
          label={`page ${search.page}`}
          previous={search.page > 1 ? hrefFor({ page: search.page - 1 }) : null}
          next={found.length > PACKAGES_PER_PAGE ? hrefFor({ page: search.page + 1 }) : null}
        />
      ) : null}
    </Card>
  );
}

/** The versions of one package across the fleet, each opening the hosts that run it. */
async function PackageVersions({ caller, search }: { caller: Caller; search: TSearch & { package: string } }) {
  const versions = await packageVersions(caller, search.package);
  const hosts = versions.reduce((n, v) => n + v.hosts, 0);
  return (
    <Card className="mt-6">
      <CardHeader
        title={`Versions of ${search.package}`}
        description={versions.length ? `${versions.length} ${versions.length === 1 ? 'version' : 'versions'} in the hosts' current systems.` : undefined}
        actions={
          <Link href={hrefFor({ ...search, package: undefined })} className={buttonClass('ghost', 'sm')}>
            Close
          </Link>
        }
      />
      {versions.length === 0 ? (
        <EmptyState title={`No host runs ${search.package} now`} />
      ) : (
        <ul className="divide-y divide-slate-100 dark:divide-slate-800" data-testid="package-versions">
          {versions.map((v) => (
            <li key={v.version} className="px-5 py-2.5" data-testid={`package-version-${v.version}`}>
              <Link href={hrefFor({ ...search, version: v.version, hosts: 1 })} className="flex items-center gap-3 text-sm hover:text-brand-600 hover:underline dark:hover:text-blue-400">
                <span className="font-mono text-xs">{v.version || '(no version)'}</span>
                <span className="ml-auto tabular-nums font-medium">{hostsLabel(v.hosts)}</span>
              </Link>
              <div className="mt-1.5 h-1.5 rounded-full bg-slate-100 dark:bg-slate-800" aria-hidden>
                <div className="h-1.5 rounded-full bg-brand-500" style={{ width: `${Math.round((v.hosts / Math.max(hosts, 1)) * 100)}%` }} />
              </div>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

export default async function InventoryPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const { caller, allowed } = await pageCaller('fleet.read');
  if (!allowed) return <Forbidden what="The software inventory" />;
  const search = ZSearch.parse(await searchParams);
  const query = search.q ? parseInventoryQuery(search.q) : null;
  // One more than a page tells whether there is a next one.
  const found = query ? await searchInventory(caller, query.name, PACKAGES_PER_PAGE + 1, { version: query.version, offset: (search.page - 1) * PACKAGES_PER_PAGE }) : [];
  const rows = found.slice(0, PACKAGES_PER_PAGE);
  return (
    <>
      <PageHeader title="Software inventory" description="Which packages, at which versions, the fleet's hosts run now: read from the closures of their current systems." />
      <Card>
        <Form action="/inventory" className="flex flex-wrap items-center gap-3 p-5" role="search">
          <label htmlFor="inventory-q" className="sr-only">
            Package name, optionally followed by a version
          </label>
          <Input key={search.q} id="inventory-q" name="q" defaultValue={search.q} placeholder="A package name, optionally a version: openssl 3.0" className="max-w-md flex-1" autoFocus={!search.q} />
          <Button type="submit">Search</Button>
          <p className="w-full text-xs text-slate-500 dark:text-slate-400">Names match from their start; a version after the name matches versions starting with it (“openssl 3.0” finds 3.0.13 but not 3.1.0).</p>
        </Form>
        {query ? (
          rows.length === 0 ? (
            <EmptyState title={`No host runs a package matching “${search.q}”`} />
          ) : (
            <>
              <Table>
                <thead>
                  <tr>
                    <Th>Package</Th>
                    <Th>Version</Th>
                    <Th className="text-right">Hosts</Th>
                  </tr>
                </thead>
                <TBody>
                  {rows.map((r) => {
                    const selected = r.pname === search.package && r.version === search.version;
                    return (
                      <tr key={`${r.pname}@${r.version}`} data-testid={`inventory-${r.pname}-${r.version}`} className={selected ? 'bg-brand-50/60 dark:bg-slate-800/60' : undefined}>
                        <Td className="font-medium">{r.pname}</Td>
                        <Td className="font-mono text-xs">{r.version}</Td>
                        <Td className="text-right tabular-nums">
                          <Link href={hrefFor({ ...search, package: r.pname, version: r.version, hosts: 1 })} className="text-brand-600 hover:underline dark:text-blue-300" title={`The hosts running ${r.pname} ${r.version}`}>
                            {r.hosts} {r.hosts === 1 ? 'host' : 'hosts'}
                          </Link>
                        </Td>
                      </tr>
                    );
                  })}
                </TBody>
              </Table>
              {search.page > 1 || found.length > PACKAGES_PER_PAGE ? (
                <Pager
                  label={`page ${search.page}`}
                  previous={search.page > 1 ? hrefFor({ q: search.q, page: search.page - 1 }) : null}
                  next={found.length > PACKAGES_PER_PAGE ? hrefFor({ q: search.q, page: search.page + 1 }) : null}
                />
              ) : null}
            </>
          )
        ) : (
          <p className="border-t border-slate-200 px-5 py-3 text-sm text-slate-500 dark:border-slate-800 dark:text-slate-400">
            Type a name (“openssl”), or a name and a version (“openssl 3.0”) to find which hosts still run it, or browse the most installed packages below. The same answers come from{' '}
            <code className="text-xs">GET /api/v1/inventory</code>.
          </p>
        )}
      </Card>
      {search.package && search.version === undefined ? <PackageVersions caller={caller} search={{ ...search, package: search.package }} /> : null}
      {search.package && search.version !== undefined ? <HostsRunning orgId={caller.org.id} search={{ ...search, package: search.package }} /> : null}
      {query ? null : <MostInstalled caller={caller} search={search} />}
    </>
  );
}
