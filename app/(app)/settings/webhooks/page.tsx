import type { Metadata } from 'next';
import Link from 'next/link';
import { z } from 'zod';
import { Forbidden } from '@/components/shell/forbidden';
import { SettingsTabs } from '@/components/shell/settings-tabs';
import { Badge, Card, CardHeader, EmptyState, PageHeader } from '@/components/ui/card';
import { Table, TBody, Td, Th } from '@/components/ui/table';
import { pageCaller } from '@/lib/auth/page';
import { WEBHOOK_EVENTS, type TDelivery } from '@/lib/notify/schemas';
import { listDeliveries, listWebhooks } from '@/lib/notify/webhooks';
import { CreateWebhookForm, RefreshWhilePending, WebhookActions } from './webhooks-client';

export const metadata: Metadata = { title: 'Webhooks' };

const ZSearch = z.object({ webhook: z.uuid().optional().catch(undefined) });

function StatusBadge({ status }: { status: TDelivery['status'] }) {
  const tone = status === 'delivered' ? 'green' : status === 'failed' ? 'red' : 'amber';
  return <Badge tone={tone}>{status}</Badge>;
}

/** Origin only: the path of a webhook URL is often its secret (Slack's is), and pages get screenshotted. */
function shownUrl(url: string) {
  try {
    const u = new URL(url);
    return u.pathname === '/' && !u.search ? u.origin : `${u.origin}/…`;
  } catch {
    return url;
  }
}

const time = (iso: string) => iso.slice(0, 19).replace('T', ' ');

export default async function WebhooksPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const { caller, allowed } = await pageCaller('settings.manage');
  if (!allowed) return <Forbidden what="Webhooks" />;
  const { webhook: selected } = ZSearch.parse(await searchParams);
  const [hooks, deliveries] = await Promise.all([listWebhooks(caller), listDeliveries(caller, { webhookId: selected, limit: 20 })]);
  const selectedName = hooks.find((h) => h.id === selected)?.name;
  return (
    <>
      <PageHeader title="Settings" description="Webhooks tell other systems (chat, incident tools, your scripts) when deployments start, halt and finish." />
      <SettingsTabs caller={caller} current="webhooks" />
      <RefreshWhilePending pending={deliveries.some((d) => d.status === 'pending')} />
      <div className="space-y-6">
        <Card>
          <CardHeader
            title="Add a webhook"
            description="Every request is signed with HMAC-SHA256 in x-flotilla-signature; the README says how to check it. The secret is shown once."
          />
          <div className="p-5">
            <CreateWebhookForm events={WEBHOOK_EVENTS} />
          </div>
        </Card>
        <Card>
          <CardHeader title="Webhooks" />
          {hooks.length === 0 ? (
            <EmptyState title="No webhooks yet" />
          ) : (
            <Table>
              <thead>
                <tr>
                  <Th>Name</Th>
                  <Th>URL</Th>
                  <Th>Format</Th>
                  <Th>Events</Th>
                  <Th>Last delivery</Th>
                  <Th />
                </tr>
              </thead>
              <TBody>
                {hooks.map((h) => (
                  <tr key={h.id} data-testid={`webhook-${h.name}`}>
                    <Td className="font-medium">
                      <Link href={`/settings/webhooks?webhook=${h.id}`} className="hover:underline" title="Show its deliveries">
                        {h.name}
                      </Link>
                    </Td>
                    <Td className="font-mono text-xs text-slate-500">{shownUrl(h.url)}</Td>
                    <Td>{h.format === 'slack' ? 'Slack-compatible' : 'Generic JSON'}</Td>
                    <Td className="max-w-xs whitespace-normal font-mono text-xs text-slate-500">{h.events.length === 0 ? 'all' : h.events.join(', ')}</Td>
                    <Td>
                      {h.lastDelivery ? (
                        <span className="inline-flex items-center gap-2">
                          <StatusBadge status={h.lastDelivery.status} />
                          <span className="text-xs text-slate-500">
                            {h.lastDelivery.statusCode ?? ''} {time(h.lastDelivery.at)}
                          </span>
                        </span>
                      ) : (
                        <span className="text-slate-500">none yet</span>
                      )}
                    </Td>
                    <Td className="text-right">
                      <WebhookActions webhookId={h.id} name={h.name} />
                    </Td>
                  </tr>
                ))}
              </TBody>
            </Table>
          )}
        </Card>
        <Card>
          <CardHeader
            title={selectedName ? `Recent deliveries of “${selectedName}”` : 'Recent deliveries'}
            description={
              selectedName ? (
                <Link href="/settings/webhooks" className="hover:underline">
                  Show all webhooks’ deliveries
                </Link>
              ) : (
                'The last 20. Failed attempts are retried with backoff for about an hour.'
              )
            }
          />
          {deliveries.length === 0 ? (
            <EmptyState title="Nothing delivered yet" />
          ) : (
            <Table>
              <thead>
                <tr>
                  <Th>Created</Th>
                  <Th>Webhook</Th>
                  <Th>Event</Th>
                  <Th>Status</Th>
                  <Th>Attempts</Th>
                  <Th>HTTP</Th>
                  <Th>Error</Th>
                </tr>
              </thead>
              <TBody>
                {deliveries.map((d) => (
                  <tr key={d.id} data-testid={`delivery-${d.id}`} data-webhook={d.webhookName} data-status={d.status}>
                    <Td className="text-slate-500">{time(d.createdAt)}</Td>
                    <Td>{d.webhookName}</Td>
                    <Td className="font-mono text-xs">{d.event}</Td>
                    <Td>
                      <StatusBadge status={d.status} />
                    </Td>
                    <Td>{d.attempts}</Td>
                    <Td>{d.lastStatusCode ?? '—'}</Td>
                    <Td className="max-w-md truncate text-xs text-slate-500">
                      <span title={d.lastError ?? undefined}>{d.lastError ?? ''}</span>
                    </Td>
                  </tr>
                ))}
              </TBody>
            </Table>
          )}
        </Card>
      </div>
    </>
  );
}
