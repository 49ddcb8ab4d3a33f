import type { Metadata } from 'next';
import { SettingsTabs } from '@/components/shell/settings-tabs';
import { Card, CardHeader, PageHeader } from '@/components/ui/card';
import { can } from '@/lib/auth/caller';
import { pageCaller } from '@/lib/auth/page';
import { orgSettings } from '@/lib/orgs/settings';
import { OrgNameForm, PasswordForm, RetentionForm, RolloutDefaultsForm, RotateKeyForm } from './settings-forms';
import { env } from '@/lib/env';
import { TrustedKeysForm } from './trusted-keys-form';

export const metadata: Metadata = { title: 'Settings' };

export default async function SettingsPage() {
  const { caller } = await pageCaller('authenticated');
  const settings = await orgSettings(caller);
  const fleet = can(caller, 'fleet.read');
  return (
    <>
      <PageHeader title="Settings" description={`Organisation ${settings.name} (${settings.slug})`} />
      <SettingsTabs caller={caller} current="general" />
      <div className="grid gap-6 lg:grid-cols-2">
        <Card>
          <CardHeader title="Organisation" description={can(caller, 'settings.manage') ? 'Shown in the navigation and in notifications.' : 'Only admins can change this.'} />
          <div className="p-5">
            <OrgNameForm name={settings.name} editable={can(caller, 'settings.manage')} />
          </div>
        </Card>
        {/* Fleet settings only for those who see the fleet: a requester can neither read nor use them. */}
        {fleet ? (
          <Card>
            <CardHeader title="Fleet" description="Where host systems come from." />
            <dl className="space-y-3 p-5 text-sm">
              <div>
                <dt className="text-slate-500">nixpkgs source</dt>
                <dd className="mt-0.5 font-mono text-xs">{settings.nixpkgsSource ?? 'the in-repo stand-in (FLOTILLA_NIXPKGS is unset)'}</dd>
              </div>
              <div>
                <dt className="text-slate-500">Binary cache</dt>
                <dd className="mt-0.5 font-mono text-xs">{env().publicUrl}/cache</dd>
              </div>
              <div>
                <dt className="text-slate-500">Cache public key (for nix.settings.trusted-public-keys)</dt>
                <dd className="mt-0.5 break-all font-mono text-xs" data-testid="cache-public-key">
                  {settings.cachePublicKey ?? 'made when the worker first starts'}
                </dd>
              </div>
              {can(caller, 'settings.manage') && settings.cachePublicKey ? (
                <div>
                  <dt className="text-slate-500">Signing key rotation</dt>
                  <dd className="mt-1">
                    <RotateKeyForm />
                  </dd>
                </div>
            ) : null}
            <div>
              <dt className="text-slate-500">Created</dt>
              <dd className="mt-0.5">{settings.createdAt.toISOString().slice(0, 10)}</dd>
            </div>
          </dl>
        </Card>
        ) : null}
        {fleet ? (
          <Card>
            <CardHeader title="Cache: trusted CI keys" description="Who may put closures built outside Flotilla into the cache, besides holding a cache.write token." />
            <div className="p-5">
              <TrustedKeysForm keys={settings.cacheTrustedKeys} editable={can(caller, 'settings.manage')} />
            </div>
          </Card>
        ) : null}
        {fleet ? (
          <Card>
            <CardHeader title="Cache retention" description="Older builds lose their cache entries; never what a host runs or is about to." />
            <div className="p-5">
              <RetentionForm days={settings.buildRetentionDays} editable={can(caller, 'settings.manage')} />
            </div>
          </Card>
        ) : null}
        <Card>
          <CardHeader title="Your password" description="Changing it signs you out everywhere else." />
          <div className="p-5">
            <PasswordForm />
          </div>
        </Card>
        {fleet ? (
          <Card className="lg:col-span-2">
            <CardHeader
              title="Rollout defaults"
              description={`Every deployment starts from these; the deploy dialog and deploy.json may change any of them for one deployment.${can(caller, 'settings.manage') ? '' : ' Only admins can change them.'}`}
            />
            <div className="p-5">
              <RolloutDefaultsForm defaults={settings.rolloutDefaults} editable={can(caller, 'settings.manage')} />
            </div>
          </Card>
        ) : null}
      </div>
    </>
  );
}
