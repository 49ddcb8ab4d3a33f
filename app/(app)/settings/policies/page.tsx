import type { Metadata } from 'next';
import { Forbidden } from '@/components/shell/forbidden';
import { SettingsTabs } from '@/components/shell/settings-tabs';
import { Card, CardHeader, PageHeader } from '@/components/ui/card';
import { pageCaller } from '@/lib/auth/page';
import { listPolicies } from '@/lib/requests/policy';
import { PolicyEditor } from './policy-editor';

export const metadata: Metadata = { title: 'Request policies' };

export default async function RequestPoliciesPage() {
  const { caller, allowed } = await pageCaller('settings.manage');
  if (!allowed) return <Forbidden what="Request policies" />;
  const policies = await listPolicies(caller);
  return (
    <>
      <PageHeader title="Settings" description="Which packages employees may have without review, and which never." />
      <SettingsTabs caller={caller} current="policies" />
      <Card>
        <CardHeader
          title="Request policies"
          description="Pre-approved packages are installed as soon as an employee asks; never-allowed ones are refused with your reason. Other packages wait for a reviewer. Only installs are governed: a removal is always reviewed."
        />
        <PolicyEditor initial={policies} />
      </Card>
    </>
  );
}
