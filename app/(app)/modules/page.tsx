import type { Metadata } from 'next';
import Link from 'next/link';
import { Forbidden } from '@/components/shell/forbidden';
import { buttonClass } from '@/components/ui/button';
import { Badge, Card, EmptyState, PageHeader } from '@/components/ui/card';
import { Table, TBody, Td, Th } from '@/components/ui/table';
import { can } from '@/lib/auth/caller';
import { pageCaller } from '@/lib/auth/page';
import { listModules } from '@/lib/hosts/modules';

export const metadata: Metadata = { title: 'Shared modules' };

export default async function ModulesPage() {
  const { caller, allowed } = await pageCaller('fleet.read');
  if (!allowed) return <Forbidden what="Shared modules" />;
  const modules = await listModules(caller);
  return (
    <>
      <PageHeader
        title="Shared modules"
        description="NixOS modules applied to every host that carries one of their tags."
        actions={
          can(caller, 'hosts.write') ? (
            <Link href="/modules/new" className={buttonClass('primary')}>
              New module
            </Link>
          ) : null
        }
      />
      <Card>
        {modules.length === 0 ? (
          <EmptyState title="No shared modules yet">Put settings common to a group of hosts (users, SSH, monitoring) in a module and tag it.</EmptyState>
        ) : (
          <Table>
            <thead>
              <tr>
                <Th>Name</Th>
                <Th>Applies to tags</Th>
                <Th>Version</Th>
              </tr>
            </thead>
            <TBody>
              {modules.map((m) => (
                <tr key={m.name}>
                  <Td className="font-medium">
                    <Link href={`/modules/${m.name}`} className="hover:underline">
                      {m.name}
                    </Link>
                  </Td>
                  <Td>
                    <span className="flex flex-wrap gap-1">{m.tags.length ? m.tags.map((t) => <Badge key={t}>{t}</Badge>) : <span className="text-slate-400">no tags: applies nowhere</span>}</span>
                  </Td>
                  <Td>v{m.version}</Td>
                </tr>
              ))}
            </TBody>
          </Table>
        )}
      </Card>
    </>
  );
}
