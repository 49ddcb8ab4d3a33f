import { AppShell } from '@/components/shell/app-shell';
import { NAV } from '@/components/shell/nav';
import { userMemberships } from '@/lib/auth/membership';
import { pageCaller } from '@/lib/auth/page';
import { can } from '@/lib/auth/caller';
import { ROLE_LABELS } from '@/lib/auth/permissions';
import { switchOrgAction } from './settings/actions';

export const dynamic = 'force-dynamic';

export default async function AppLayout({ children }: { children: React.ReactNode }) {
  const { caller } = await pageCaller('authenticated');
  const orgs = await userMemberships(caller.user.id);
  return (
    <AppShell
      nav={NAV.filter((item) => (!item.needs || can(caller, item.needs)) && (!item.without || !can(caller, item.without)))}
      user={{ name: caller.user.name, email: caller.user.email, role: ROLE_LABELS[caller.role] }}
      org={{ id: caller.org.id, name: caller.org.name }}
      orgs={orgs.map((m) => ({ id: m.org.id, name: m.org.name, role: m.role }))}
      switchOrg={switchOrgAction}
    >
      {children}
    </AppShell>
  );
}
