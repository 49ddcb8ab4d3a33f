import type { Metadata } from 'next';
import { Forbidden } from '@/components/shell/forbidden';
import { SettingsTabs } from '@/components/shell/settings-tabs';
import { Badge, Card, CardHeader, PageHeader } from '@/components/ui/card';
import { Table, TBody, Td, Th } from '@/components/ui/table';
import { can } from '@/lib/auth/caller';
import { pageCaller } from '@/lib/auth/page';
import { ROLE_LABELS } from '@/lib/auth/permissions';
import { listMembers } from '@/lib/orgs/members';
import { InviteForm, RemoveButton, RevokeInvitationButton, RoleSelect } from './members-client';

export const metadata: Metadata = { title: 'Members' };

export default async function UsersPage() {
  const { caller, allowed } = await pageCaller('users.read');
  if (!allowed) {
    return (
      <>
        <PageHeader title="Members" />
        <Forbidden what="The member list" />
      </>
    );
  }
  const { members, invitations } = await listMembers(caller);
  const manage = can(caller, 'users.manage');
  return (
    <>
      <PageHeader title="Settings" description={`People in ${caller.org.name} and what they may do.`} />
      <SettingsTabs caller={caller} current="users" />
      <div className="space-y-6">
        {manage ? (
          <Card>
            <CardHeader title="Add a member" description="With a password they can sign in right away; without one you get an invitation link to send them." />
            <div className="p-5">
              <InviteForm />
            </div>
          </Card>
        ) : null}
        <Card>
          <CardHeader title={`Members (${members.length})`} />
          <Table>
            <thead>
              <tr>
                <Th>Name</Th>
                <Th>E-mail</Th>
                <Th>Role</Th>
                <Th>Joined</Th>
                <Th className="text-right">{manage ? 'Actions' : ''}</Th>
              </tr>
            </thead>
            <TBody>
              {members.map((m) => (
                <tr key={m.id} data-testid={`member-${m.email}`}>
                  <Td className="font-medium">
                    {m.name} {m.id === caller.user.id ? <Badge tone="blue">you</Badge> : null}
                  </Td>
                  <Td className="text-slate-500">{m.email}</Td>
                  <Td>{manage ? <RoleSelect userId={m.id} role={m.role} /> : ROLE_LABELS[m.role]}</Td>
                  <Td className="text-slate-500">{m.joinedAt.slice(0, 10)}</Td>
                  <Td className="text-right">{manage ? <RemoveButton userId={m.id} name={m.name} /> : null}</Td>
                </tr>
              ))}
            </TBody>
          </Table>
        </Card>
        {invitations.length > 0 ? (
          <Card>
            <CardHeader title="Pending invitations" />
            <Table>
              <thead>
                <tr>
                  <Th>E-mail</Th>
                  <Th>Role</Th>
                  <Th>Expires</Th>
                  <Th />
                </tr>
              </thead>
              <TBody>
                {invitations.map((i) => (
                  <tr key={i.id}>
                    <Td>{i.email}</Td>
                    <Td>{ROLE_LABELS[i.role]}</Td>
                    <Td className="text-slate-500">{i.expiresAt.slice(0, 16).replace('T', ' ')} UTC</Td>
                    <Td className="text-right">{manage ? <RevokeInvitationButton invitationId={i.id} /> : null}</Td>
                  </tr>
                ))}
              </TBody>
            </Table>
          </Card>
        ) : null}
      </div>
    </>
  );
}
