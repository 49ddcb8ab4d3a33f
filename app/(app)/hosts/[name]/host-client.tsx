'use client';

import { useRouter } from 'next/navigation';
import { useEffect, useState, useTransition } from 'react';
import { EnrollInstructions } from '@/components/hosts/enroll-instructions';
import { ActionButton } from '@/components/ui/action-button';
import { Button } from '@/components/ui/button';
import { Badge } from '@/components/ui/card';
import { Field, FormError, Input } from '@/components/ui/form';
import { useFormAction } from '@/components/ui/use-form-action';
import type { TSimulation } from '@/lib/hosts/enroll-commands';
import { issueEnrollTokenAction, retireHostAction, revokeCredentialAction, revokeEnrollTokenAction, updateHostAction } from '../actions';

export function HostSettingsForm({ host, tags, assignees, editable }: { host: string; tags: string[]; assignees: string[]; editable: boolean }) {
  const router = useRouter();
  // A refused form keeps what was typed (see useFormAction).
  const { state, formAction, pending, submitted } = useFormAction(updateHostAction);
  useEffect(() => {
    if (state?.ok && state.data.name !== host) router.replace(`/hosts/${state.data.name}`);
    else if (state?.ok) router.refresh();
  }, [state, host, router]);
  if (!editable) {
    return (
      <dl className="space-y-3 text-sm">
        <div>
          <dt className="text-slate-500">Tags</dt>
          <dd className="mt-1 flex flex-wrap gap-1">{tags.length ? tags.map((t) => <Badge key={t}>{t}</Badge>) : 'none'}</dd>
        </div>
        <div>
          <dt className="text-slate-500">Assigned to</dt>
          <dd className="mt-1">{assignees.length ? assignees.join(', ') : 'nobody'}</dd>
        </div>
      </dl>
    );
  }
  const fields = state?.ok === false ? (state.error.fields ?? {}) : {};
  // After a refusal, what was typed; after a save, what the server made of it.
  const typed = (name: string) => (state?.ok === false ? submitted(name) : undefined);
  return (
    <form action={formAction} className="space-y-4">
      <input type="hidden" name="host" value={host} />
      <FormError message={state?.ok === false && !state.error.fields ? state.error.message : undefined} />
      <Field label="Name" htmlFor="rename" error={fields.name} hint="Renaming keeps the history and the agent's credential.">
        <Input id="rename" name="name" defaultValue={typed('name') ?? host} required />
      </Field>
      <Field label="Tags" htmlFor="tags" error={fields.tags ?? fields['tags.0']} hint="Comma-separated.">
        <Input id="tags" name="tags" defaultValue={typed('tags') ?? tags.join(', ')} />
      </Field>
      <Field label="Assigned people" htmlFor="assignees" error={fields.assignees ?? fields['assignees.0']} hint="E-mail addresses, comma-separated.">
        <Input id="assignees" name="assignees" defaultValue={typed('assignees') ?? assignees.join(', ')} />
      </Field>
      <div className="flex items-center gap-3">
        <Button type="submit" disabled={pending}>
          Save
        </Button>
        {state?.ok ? <span className="text-sm text-emerald-600">Saved</span> : null}
      </div>
    </form>
  );
}

export function EnrollmentPanel(props: { host: string; enrolledAt: string | null; pending: { expiresAt: string } | null; editable: boolean; simulation: TSimulation | null }) {
  const router = useRouter();
  const [issued, setIssued] = useState<{ token: string; expiresAt: string }>();
  const [error, setError] = useState<string>();
  const [busy, start] = useTransition();
  return (
    <div className="space-y-3 text-sm">
      <p>
        {props.enrolledAt ? `Enrolled on ${props.enrolledAt.slice(0, 10)}.` : 'Not enrolled yet.'}{' '}
        {props.pending && !issued ? `An unused token is valid until ${new Date(props.pending.expiresAt).toUTCString()}.` : null}
      </p>
      {issued ? <EnrollInstructions host={props.host} token={issued.token} expiresAt={issued.expiresAt} simulation={props.simulation} /> : null}
      {error ? <p className="text-red-600">{error}</p> : null}
      {props.editable ? (
        <div className="flex flex-wrap gap-2">
          {props.enrolledAt ? (
            <ActionButton
              variant="secondary"
              run={() => revokeCredentialAction(null, { host: props.host })}
              confirm={`Revoke the agent credential of ${props.host}? Its agent is disconnected at once and must enrol again with a new token.`}
              onDone={() => router.refresh()}
            >
              Revoke agent credential
            </ActionButton>
          ) : null}
          <Button
            variant="secondary"
            size="sm"
            disabled={busy}
            onClick={() =>
              start(async () => {
                const r = await issueEnrollTokenAction(null, { host: props.host });
                if (r?.ok) setIssued(r.data);
                else if (r) setError(r.error.message);
              })
            }
          >
            {props.pending ? 'Issue a new token' : 'Issue enroll token'}
          </Button>
          {props.pending || issued ? (
            <Button
              variant="ghost"
              size="sm"
              disabled={busy}
              onClick={() =>
                start(async () => {
                  const r = await revokeEnrollTokenAction(null, { host: props.host });
                  if (r?.ok) {
                    setIssued(undefined);
                    router.refresh();
                  } else if (r) setError(r.error.message);
                })
              }
            >
              Revoke token
            </Button>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}

export function RetireHost({ host }: { host: string }) {
  const router = useRouter();
  return (
    <ActionButton
      variant="danger"
      run={() => retireHostAction(null, { host })}
      confirm={`Retire ${host}? It leaves the fleet: its credential stops working and its name becomes free. History is kept.`}
      onDone={() => router.replace('/hosts')}
    >
      Retire host
    </ActionButton>
  );
}
