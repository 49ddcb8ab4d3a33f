import type { Metadata } from 'next';
import { Forbidden } from '@/components/shell/forbidden';
import { SettingsTabs } from '@/components/shell/settings-tabs';
import { Badge, Card, CardHeader, EmptyState, PageHeader } from '@/components/ui/card';
import { Table, TBody, Td, Th } from '@/components/ui/table';
import { listApiTokens } from '@/lib/auth/api-tokens';
import { pageCaller } from '@/lib/auth/page';
import { PERMISSIONS } from '@/lib/auth/permissions';
import { CreateTokenForm, RevokeTokenButton } from './tokens-client';

export const metadata: Metadata = { title: 'API tokens' };

function status(t: { revokedAt: string | null; expiresAt: string | null }) {
  if (t.revokedAt) return <Badge tone="red">revoked</Badge>;
  if (t.expiresAt && new Date(t.expiresAt) <= new Date()) return <Badge tone="amber">expired</Badge>;
  return <Badge tone="green">active</Badge>;
}

export default async function TokensPage() {
  const { caller, allowed } = await pageCaller('tokens.own');
  if (!allowed) return <Forbidden what="API tokens" />;
  const tokens = await listApiTokens(caller);
  const grantable = [...caller.permissions].map((p) => ({ id: p, label: PERMISSIONS[p] }));
  return (
    <>
      <PageHeader title="Settings" description="Tokens let scripts, CI and the flotilla CLI act as you, with the scopes you pick." />
      <SettingsTabs caller={caller} current="tokens" />
      <div className="space-y-6">
        <Card>
          <CardHeader title="Create a token" description="The secret is shown once. Flotilla keeps only a hash." />
          <div className="p-5">
            <CreateTokenForm scopes={grantable} />
          </div>
        </Card>
        <Card>
          <CardHeader title="Your tokens" />
          {tokens.length === 0 ? (
            <EmptyState title="No tokens yet" />
          ) : (
            <Table>
              <thead>
                <tr>
                  <Th>Name</Th>
                  <Th>Token</Th>
                  <Th>Scopes</Th>
                  <Th>Status</Th>
                  <Th>Last used</Th>
                  <Th>Expires</Th>
                  <Th />
                </tr>
              </thead>
              <TBody>
                {tokens.map((t) => (
                  <tr key={t.id} data-testid={`token-${t.name}`}>
                    <Td className="font-medium">{t.name}</Td>
                    <Td className="font-mono text-xs text-slate-500">{t.prefix}…</Td>
                    <Td className="text-xs text-slate-500">
                      {/* Each scope is an item of a wrapping row: Td does not wrap text. */}
                      <span className="flex min-w-[14rem] max-w-xs flex-wrap gap-x-1">
                        {t.scopes.map((scope, i) => (
                          <span key={scope}>
                            {scope}
                            {i < t.scopes.length - 1 ? ',' : ''}
                          </span>
                        ))}
                      </span>
                      {t.hostTags ? (
                        <span className="mt-1 flex max-w-xs flex-wrap items-center gap-1" data-testid="token-host-tags">
                          <span>only hosts tagged</span>
                          {t.hostTags.map((tag) => (
                            <Badge key={tag}>{tag}</Badge>
                          ))}
                        </span>
                      ) : null}
                    </Td>
                    <Td>{status(t)}</Td>
                    <Td className="text-slate-500">{t.lastUsedAt ? t.lastUsedAt.slice(0, 16).replace('T', ' ') : 'never'}</Td>
                    <Td className="text-slate-500">{t.expiresAt ? t.expiresAt.slice(0, 10) : 'never'}</Td>
                    <Td className="text-right">{t.revokedAt ? null : <RevokeTokenButton tokenId={t.id} name={t.name} />}</Td>
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
