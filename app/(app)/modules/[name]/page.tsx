import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { Forbidden } from '@/components/shell/forbidden';
import { Card, CardHeader, PageHeader } from '@/components/ui/card';
import { AppError } from '@/lib/api/errors';
import { can } from '@/lib/auth/caller';
import { pageCaller } from '@/lib/auth/page';
import { getModule } from '@/lib/hosts/modules';
import { ModuleEditor } from '../module-editor';

export async function generateMetadata({ params }: { params: Promise<{ name: string }> }): Promise<Metadata> {
  return { title: `Module ${(await params).name}` };
}

export default async function ModulePage({ params }: { params: Promise<{ name: string }> }) {
  const { caller, allowed } = await pageCaller('fleet.read');
  if (!allowed) return <Forbidden what="Shared modules" />;
  const { name } = await params;
  const mod = await getModule(caller, name).catch((error) => {
    if (error instanceof AppError && error.code === 'not_found') notFound();
    throw error;
  });
  return (
    <>
      <PageHeader title={`Module ${mod.name}`} description={`Version ${mod.version} by ${mod.author ?? 'unknown'}`} />
      <ModuleEditor initial={mod} editable={can(caller, 'hosts.write')} />
      <Card className="mt-6">
        <CardHeader title="History" />
        <ul className="divide-y divide-slate-100 text-sm dark:divide-slate-800">
          {mod.history.map((h) => (
            <li key={h.version} className="flex justify-between px-5 py-2">
              <span>
                <strong>v{h.version}</strong> {h.message || <span className="text-slate-400">no message</span>}
              </span>
              <span className="text-slate-500">
                {h.author ?? '—'} · {h.createdAt.slice(0, 16).replace('T', ' ')}
              </span>
            </li>
          ))}
        </ul>
      </Card>
    </>
  );
}
