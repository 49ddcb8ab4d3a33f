import type { Metadata } from 'next';
import Link from 'next/link';
import { Forbidden } from '@/components/shell/forbidden';
import { buttonClass } from '@/components/ui/button';
import { Card, EmptyState, PageHeader } from '@/components/ui/card';
import { Input } from '@/components/ui/form';
import { Table, TBody, Td, Th } from '@/components/ui/table';
import { listAuditEvents, ZAuditFilter } from '@/lib/audit/list';
import { pageCaller } from '@/lib/auth/page';

export const metadata: Metadata = { title: 'Audit log' };

function summarize(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}…` : text;
}

export default async function AuditPage({ searchParams }: { searchParams: Promise<Record<string, string | undefined>> }) {
  const { caller, allowed } = await pageCaller('audit.read');
  if (!allowed) return <Forbidden what="The audit log" />;
  const raw = Object.fromEntries(Object.entries(await searchParams).filter(([, v]) => v));
  const parsed = ZAuditFilter.safeParse(raw);
  const filter = parsed.success ? parsed.data : ZAuditFilter.parse({});
  const { events, nextBefore } = await listAuditEvents(caller, filter);
  const nextQuery = new URLSearchParams({ ...(raw as Record<string, string>), before: String(nextBefore ?? '') });

  return (
    <>
      <PageHeader title="Audit log" description="Every change, who made it, and what it was before and after." />
      <Card className="mb-6 p-4">
        <form className="grid gap-3 sm:grid-cols-2 lg:grid-cols-6 lg:items-end" method="get">
          <Input name="action" placeholder="Action, e.g. token." defaultValue={filter.action} aria-label="Action" />
          <Input name="actor" placeholder="Actor e-mail" defaultValue={filter.actor} aria-label="Actor" />
          <Input name="objectType" placeholder="Object type" defaultValue={filter.objectType} aria-label="Object type" />
          <Input name="from" type="date" defaultValue={raw.from} aria-label="From" />
          <Input name="to" type="date" defaultValue={raw.to} aria-label="To" />
          <div className="flex gap-2">
            <button type="submit" className={buttonClass('primary')}>
              Filter
            </button>
            <Link href="/audit" className={buttonClass('secondary')}>
              Clear
            </Link>
          </div>
        </form>
        {!parsed.success ? <p className="mt-2 text-xs text-red-600">Some filters were invalid and were ignored.</p> : null}
      </Card>
      <Card>
        {events.length === 0 ? (
          <EmptyState title="No events match" />
        ) : (
          <Table>
            <thead>
              <tr>
                <Th>When (UTC)</Th>
                <Th>Actor</Th>
                <Th>Action</Th>
                <Th>Object</Th>
                <Th>Change</Th>
              </tr>
            </thead>
            <TBody>
              {events.map((e) => (
                <tr key={e.id}>
                  <Td className="text-slate-500 tabular-nums">{e.at.toISOString().slice(0, 19).replace('T', ' ')}</Td>
                  <Td>{e.actorLabel}</Td>
                  <Td className="font-mono text-xs">{e.action}</Td>
                  <Td className="text-xs text-slate-500">
                    {e.objectType}
                    {e.objectId ? <span className="block font-mono">{e.objectId.slice(0, 8)}</span> : null}
                  </Td>
                  <Td className="max-w-md whitespace-normal font-mono text-xs text-slate-500">
                    {e.before ? <span className="block">− {summarize(e.before)}</span> : null}
                    {e.after ? <span className="block">+ {summarize(e.after)}</span> : null}
                  </Td>
                </tr>
              ))}
            </TBody>
          </Table>
        )}
        {nextBefore ? (
          <div className="border-t border-slate-200 p-3 text-right dark:border-slate-800">
            <Link href={`/audit?${nextQuery}`} className={buttonClass('secondary', 'sm')}>
              Older events
            </Link>
          </div>
        ) : null}
      </Card>
    </>
  );
}
