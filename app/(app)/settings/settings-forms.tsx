'use client';

import { signIn } from 'next-auth/react';
import { useActionState, useEffect, useRef, useState, useTransition } from 'react';
import { MaintenanceWindowsFields } from '@/components/deployments/maintenance-windows-fields';
import { fieldsFrom, serverFieldErrors, StrategyFieldset, toRollout, type FieldErrors } from '@/components/deployments/strategy-fields';
import { ActionButton } from '@/components/ui/action-button';
import { Button } from '@/components/ui/button';
import { Field, FormError, Input } from '@/components/ui/form';
import type { TRollout } from '@/lib/db/json-types';
import { changePasswordAction, renameOrgAction, rotateCacheKeyAction, setRetentionAction, setRolloutDefaultsAction } from './actions';

export function OrgNameForm({ name, editable }: { name: string; editable: boolean }) {
  const [state, formAction, pending] = useActionState(renameOrgAction, null);
  const fields = state?.ok === false ? (state.error.fields ?? {}) : {};
  return (
    <form action={formAction} className="space-y-4">
      <FormError message={state?.ok === false && !state.error.fields ? state.error.message : undefined} />
      <Field label="Name" htmlFor="org-name" error={fields.name}>
        <Input id="org-name" name="name" defaultValue={name} disabled={!editable} required maxLength={100} />
      </Field>
      {editable ? (
        <div className="flex items-center gap-3">
          <Button type="submit" disabled={pending}>
            Save
          </Button>
          {state?.ok ? <span className="text-sm text-emerald-600">Saved</span> : null}
        </div>
      ) : null}
    </form>
  );
}

export function PasswordForm() {
  const [state, formAction, pending] = useActionState(changePasswordAction, null);
  const next = useRef<HTMLInputElement>(null);
  const form = useRef<HTMLFormElement>(null);
  useEffect(() => {
    // The change ended every session, this one included: sign in again with the new password.
    if (state?.ok) void signIn('credentials', { email: state.data.email, password: next.current?.value, redirect: false }).then(() => form.current?.reset());
  }, [state]);
  const fields = state?.ok === false ? (state.error.fields ?? {}) : {};
  return (
    <form ref={form} action={formAction} className="space-y-4">
      <FormError message={state?.ok === false && !state.error.fields ? state.error.message : undefined} />
      <Field label="Current password" htmlFor="currentPassword" error={fields.currentPassword}>
        <Input id="currentPassword" name="currentPassword" type="password" autoComplete="current-password" />
      </Field>
      <Field label="New password" htmlFor="newPassword" error={fields.newPassword} hint="At least 12 characters.">
        <Input ref={next} id="newPassword" name="newPassword" type="password" autoComplete="new-password" required minLength={12} />
      </Field>
      <div className="flex items-center gap-3">
        <Button type="submit" disabled={pending}>
          Change password
        </Button>
        {state?.ok ? <span className="text-sm text-emerald-600">Password changed</span> : null}
      </div>
    </form>
  );
}

export function RetentionForm({ days, editable }: { days: number; editable: boolean }) {
  const [state, formAction, pending] = useActionState(setRetentionAction, null);
  const fields = state?.ok === false ? (state.error.fields ?? {}) : {};
  return (
    <form action={formAction} className="flex flex-wrap items-end gap-3">
      <Field label="Keep builds in the cache for (days)" htmlFor="retention" error={fields.days ?? (state?.ok === false ? state.error.message : undefined)}>
        <Input id="retention" name="days" type="number" min={1} max={3650} defaultValue={days} disabled={!editable} className="w-32" />
      </Field>
      {editable ? (
        <Button type="submit" disabled={pending}>
          Save
        </Button>
      ) : null}
      {state?.ok ? <span className="pb-2 text-sm text-emerald-600">Saved</span> : null}
    </form>
  );
}

/** The strategy every deployment starts from; the start dialog and deploy.json may override any of it. */
export function RolloutDefaultsForm({ defaults, editable }: { defaults: TRollout; editable: boolean }) {
  const [fields, setFields] = useState(() => fieldsFrom(defaults));
  const [windows, setWindows] = useState(defaults.maintenanceWindows);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [windowError, setWindowError] = useState<string>();
  const [formError, setFormError] = useState<string>();
  const [saved, setSaved] = useState(false);
  const [pending, start] = useTransition();

  function save() {
    const { rollout, errors: local } = toRollout(fields, { ...defaults, maintenanceWindows: windows });
    setErrors(local);
    setSaved(false);
    setFormError(undefined);
    setWindowError(undefined);
    if (Object.keys(local).length) return;
    start(async () => {
      const result = await setRolloutDefaultsAction(null, { defaults: rollout });
      if (result?.ok) {
        setSaved(true);
        return;
      }
      if (!result) return;
      const fieldErrors = serverFieldErrors(result.error.fields);
      const windowIssue = Object.entries(result.error.fields ?? {}).find(([path]) => path.startsWith('defaults.maintenanceWindows'));
      setErrors(fieldErrors);
      if (windowIssue) setWindowError(`Window ${Number(windowIssue[0].split('.')[2] ?? 0) + 1}: ${windowIssue[1]}`);
      if (!Object.keys(fieldErrors).length && !windowIssue) setFormError(result.error.message);
    });
  }

  return (
    <div className="space-y-5">
      <FormError message={formError} />
      <StrategyFieldset
        idPrefix="defaults"
        value={fields}
        errors={errors}
        disabled={!editable || pending}
        onChange={(next) => {
          setFields(next);
          setSaved(false);
        }}
      />
      <MaintenanceWindowsFields
        value={windows}
        error={windowError}
        disabled={!editable || pending}
        onChange={(next) => {
          setWindows(next);
          setSaved(false);
        }}
      />
      {editable ? (
        <div className="flex items-center gap-3">
          <Button type="button" onClick={save} disabled={pending}>
            {pending ? 'Saving…' : 'Save rollout defaults'}
          </Button>
          {saved ? (
            <span role="status" className="text-sm text-emerald-600">
              Saved
            </span>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}

const KEEP_CHOICES = [
  { hours: 24, label: 'for 24 hours (pushes under way finish)' },
  { hours: 168, label: 'for a week' },
  { hours: 0, label: 'not at all (the old key may be compromised)' },
] as const;

/**
 * A new signing key for the cache. Agents pinned the old one at enrolment and take the new
 * one only through a statement the old key signs, so rotating is safe while hosts are online
 * and offline hosts catch up when they reconnect.
 */
export function RotateKeyForm() {
  const [hours, setHours] = useState(24);
  const [done, setDone] = useState<{ publicKey: string; resignedNarinfos: number } | null>(null);
  return (
    <div className="space-y-3">
      <Field label="Keep trusting the old key" htmlFor="keep-old-key" hint="Agents accept closures signed only by the old key for this long.">
        <select
          id="keep-old-key"
          value={hours}
          onChange={(e) => setHours(Number(e.target.value))}
          className="block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm dark:border-slate-700 dark:bg-slate-900"
        >
          {KEEP_CHOICES.map((c) => (
            <option key={c.hours} value={c.hours}>
              {c.label}
            </option>
          ))}
        </select>
      </Field>
      <ActionButton
        variant="secondary"
        size="md"
        confirm="Make a new signing key? New builds are signed with it, the cache's paths get its signature, and every agent is told (signed by the current key)."
        busyLabel="Rotating…"
        run={() => rotateCacheKeyAction(null, { keepPreviousKeyHours: hours })}
        onDone={(data) => setDone({ publicKey: data.publicKey, resignedNarinfos: data.resignedNarinfos })}
      >
        Rotate signing key…
      </ActionButton>
      {done ? (
        <p className="text-sm text-emerald-600" data-testid="key-rotated">
          New key <span className="break-all font-mono text-xs">{done.publicKey}</span>; {done.resignedNarinfos} cached path{done.resignedNarinfos === 1 ? '' : 's'} re-signed.
        </p>
      ) : null}
    </div>
  );
}
