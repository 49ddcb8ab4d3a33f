'use client';

import { useActionState, useState, useTransition } from 'react';
import { ActionButton } from '@/components/ui/action-button';
import { Button } from '@/components/ui/button';
import { Field, FormError, Input, Select } from '@/components/ui/form';
import { ROLE_LABELS } from '@/lib/auth/permissions';
import { ROLES } from '@/lib/db/enums';
import type { Role } from '@/lib/db/schema';
import { addMemberAction, changeRoleAction, removeMemberAction, revokeInvitationAction } from './actions';
import { CopyButton } from '@/components/ui/copy-button';

function RoleOptions() {
  return ROLES.map((r) => (
    <option key={r} value={r}>
      {ROLE_LABELS[r]}
    </option>
  ));
}

export function InviteForm() {
  const [state, formAction, pending] = useActionState(addMemberAction, null);
  const fields = state?.ok === false ? (state.error.fields ?? {}) : {};
  return (
    <div className="space-y-4">
      <FormError message={state?.ok === false && !state.error.fields ? state.error.message : undefined} />
      {state?.ok && state.data.invitation ? (
        <div className="rounded-md bg-emerald-50 p-3 text-sm text-emerald-900 ring-1 ring-emerald-200 dark:bg-emerald-950/50 dark:text-emerald-200 dark:ring-emerald-900">
          <p className="font-medium">Invitation created. Send this link; it is shown only once and expires in 7 days.</p>
          <div className="mt-2 flex items-center gap-2">
            <input readOnly aria-label="Invitation link" value={state.data.invitation.url} className="w-full rounded bg-white px-2 py-1 font-mono text-xs dark:bg-slate-900" onFocus={(e) => e.target.select()} />
            <CopyButton text={state.data.invitation.url} label="Copy link" />
          </div>
        </div>
      ) : state?.ok ? (
        <p className="text-sm text-emerald-600">Member added.</p>
      ) : null}
      <form action={formAction} className="grid gap-4 md:grid-cols-2 lg:grid-cols-5 lg:items-end" key={state?.ok ? state.at : 'form'}>
        <Field label="Name" htmlFor="invite-name" error={fields.name}>
          <Input id="invite-name" name="name" required />
        </Field>
        <Field label="E-mail" htmlFor="invite-email" error={fields.email}>
          <Input id="invite-email" name="email" type="email" required />
        </Field>
        <Field label="Role" htmlFor="invite-role" error={fields.role}>
          {/* The least privilege by default: a requester sees only the machines assigned to them and can only ask. */}
          <Select id="invite-role" name="role" defaultValue="requester">
            <RoleOptions />
          </Select>
        </Field>
        <Field label="Password (optional)" htmlFor="invite-password" error={fields.password}>
          <Input id="invite-password" name="password" type="password" minLength={12} autoComplete="new-password" placeholder="Leave empty to invite" />
        </Field>
        <Button type="submit" disabled={pending}>
          {pending ? 'Adding…' : 'Add member'}
        </Button>
      </form>
    </div>
  );
}

export function RoleSelect({ userId, role }: { userId: string; role: Role }) {
  const [pending, start] = useTransition();
  const [error, setError] = useState<string>();
  return (
    <div>
      <Select
        aria-label="Role"
        className="w-36 py-1"
        defaultValue={role}
        disabled={pending}
        onChange={(e) => {
          const next = e.target.value;
          start(async () => {
            const result = await changeRoleAction(null, { userId, role: next });
            setError(result?.ok === false ? result.error.message : undefined);
            if (result?.ok === false) e.target.value = role;
          });
        }}
      >
        <RoleOptions />
      </Select>
      {error ? <p className="mt-1 text-xs text-red-600">{error}</p> : null}
    </div>
  );
}

export function RemoveButton({ userId, name }: { userId: string; name: string }) {
  return (
    <ActionButton run={() => removeMemberAction(null, { userId })} confirm={`Remove ${name} from the organisation? Their API tokens are revoked.`}>
      Remove
    </ActionButton>
  );
}

export function RevokeInvitationButton({ invitationId }: { invitationId: string }) {
  return <ActionButton run={() => revokeInvitationAction(null, { invitationId })}>Revoke</ActionButton>;
}
