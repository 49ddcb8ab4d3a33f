import type { Metadata } from 'next';
import Link from 'next/link';
import { formatTime } from '@/components/deployments/format';
import { AutoRefresh } from '@/components/requests/auto-refresh';
import { Forbidden } from '@/components/shell/forbidden';
import { SettingsTabs } from '@/components/shell/settings-tabs';
import { Badge, Card, CardHeader, EmptyState, PageHeader } from '@/components/ui/card';
import { Table, TBody, Td, Th } from '@/components/ui/table';
import { can } from '@/lib/auth/caller';
import { pageCaller } from '@/lib/auth/page';
import { listAlertRules, recentFirings } from '@/lib/health/alerts';
import { listWebhooks } from '@/lib/notify/webhooks';
import { CreateAlertRuleForm, DeleteAlertRule } from './alerts-client';
import { describeCondition, KINDS } from './kinds';

export const metadata: Metadata = { title: 'Alerts' };

/** The webhooks that receive alert.fired and alert.resolved: those subscribed to them or to everything. */
async function alertWebhooks(caller: Parameters<typeof listWebhooks>[0]) {
  const hooks = await listWebhooks(caller);
  return hooks.filter((h) => h.events.length === 0 || h.events.includes('alert.fired') || h.events.includes('alert.resolved'));
}

function Destinations({ hooks }: { hooks: { id: string; name: string }[] }) {
  return (
    <span data-testid="alert-destinations">
      Everyone who may change hosts is notified.{' '}
      {hooks.length === 0 ? (
        <>
          No webhook receives alerts yet: <Link href="/settings/webhooks" className="text-brand-600 hover:underline">add one</Link> with the events alert.fired and alert.resolved.
        </>
      ) : (
        <>
          Webhooks told when an alert starts and resolves:{' '}
          {hooks.map((h, i) => (
            <span key={h.id}>
              {i > 0 ? ', ' : ''}
              <Link href={`/settings/webhooks?webhook=${h.id}`} className="font-medium text-brand-600 hover:underline">
                {h.name}
              </Link>
            </span>
          ))}
          .
        </>
      )}
    </span>
  );
}

export default async function AlertsPage() {
  const { caller, allowed } = await pageCaller('fleet.read');
  if (!allowed) return <Forbidden what="Alerts" />;
  const manage = can(caller, 'settings.manage');
  const [rules, firings, hooks] = await Promise.all([listAlertRules(caller), recentFirings(caller, 50), manage ? alertWebhooks(caller) : null]);
  return (
    <>
      <PageHeader title="Settings" description="Alert rules watch the fleet every minute; each alert is sent once when it starts and once when it resolves." />
      <SettingsTabs caller={caller} current="alerts" />
      {/* The worker evaluates the rules every minute: follow it without a reload. */}
      <AutoRefresh active everyMs={30_000} />
      <div className="space-y-6">
        {manage ? (
          <Card>
            <CardHeader title="Add an alert rule" description={hooks ? <Destinations hooks={hooks} /> : undefined} />
            <div className="p-5">
              <CreateAlertRuleForm />
            </div>
          </Card>
        ) : null}
        <Card>
          <CardHeader title="Rules" description={manage ? undefined : 'Admins add and remove rules.'} />
          {rules.length === 0 ? (
            <EmptyState title="No alert rules yet">{manage ? 'Add one above: a host offline, a failed deployment, a full disk, failed units.' : null}</EmptyState>
          ) : (
            <Table>
              <thead>
                <tr>
                  <Th>Name</Th>
                  <Th>Condition</Th>
                  <Th>Hosts</Th>
                  <Th>Open alerts</Th>
                  {manage ? <Th /> : null}
                </tr>
              </thead>
              <TBody>
                {rules.map((r) => (
                  <tr key={r.id} data-testid={`alert-rule-${r.name}`}>
                    <Td className="font-medium">
                      {r.name} {r.enabled ? null : <Badge>off</Badge>}
                    </Td>
                    <Td>
                      <span className="block">{describeCondition(r.kind, r.threshold)}</span>
                      <span className="text-xs text-slate-500 dark:text-slate-400">{KINDS[r.kind].label}</span>
                    </Td>
                    <Td className="text-slate-600 dark:text-slate-300">
                      {r.tags.length ? (
                        <span className="flex flex-wrap gap-1">
                          {r.tags.map((t) => (
                            <Badge key={t}>{t}</Badge>
                          ))}
                        </span>
                      ) : (
                        'every host'
                      )}
                    </Td>
                    <Td>{r.firing ? <Badge tone="red">{r.firing} open</Badge> : <span className="text-slate-500 dark:text-slate-400">none</span>}</Td>
                    {manage ? (
                      <Td className="text-right">
                        <DeleteAlertRule id={r.id} name={r.name} />
                      </Td>
                    ) : null}
                  </tr>
                ))}
              </TBody>
            </Table>
          )}
        </Card>
        <Card>
          <CardHeader title="Recent alerts" description="The last 50, open and resolved." />
          {firings.length === 0 ? (
            <EmptyState title="No alerts yet" />
          ) : (
            <Table>
              <thead>
                <tr>
                  <Th>State</Th>
                  <Th>Rule</Th>
                  <Th>What</Th>
                  <Th>Fired (UTC)</Th>
                  <Th>Resolved (UTC)</Th>
                </tr>
              </thead>
              <TBody>
                {firings.map((f) => (
                  <tr key={f.id} data-testid={`alert-${f.id}`} data-state={f.resolvedAt ? 'resolved' : 'open'}>
                    <Td>{f.resolvedAt ? <Badge tone="green">resolved</Badge> : <Badge tone="red">open</Badge>}</Td>
                    <Td className="font-medium">{f.rule}</Td>
                    <Td className="max-w-lg whitespace-normal text-slate-600 dark:text-slate-300">
                      {f.host ? (
                        <Link href={`/hosts/${f.host}`} className="mr-1 font-medium text-brand-600 hover:underline">
                          {f.host}
                        </Link>
                      ) : null}
                      <span className="text-xs">{f.summary}</span>
                    </Td>
                    <Td className="tabular-nums text-slate-500 dark:text-slate-400">{formatTime(f.firedAt).slice(0, 16)}</Td>
                    <Td className="tabular-nums text-slate-500 dark:text-slate-400">{f.resolvedAt ? formatTime(f.resolvedAt).slice(0, 16) : '—'}</Td>
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
