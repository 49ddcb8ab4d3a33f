'use client';

import { useRouter } from 'next/navigation';
import { useActionState, useEffect, useState } from 'react';
import { ActionButton } from '@/components/ui/action-button';
import { Button } from '@/components/ui/button';
import { Field, FormError, Input, Select } from '@/components/ui/form';
import { createWebhookAction, deleteWebhookAction, sendTestWebhookAction } from './actions';
import { CopyButton } from '@/components/ui/copy-button';

export function CreateWebhookForm({ events }: { events: readonly string[] }) {
  const [state, formAction, pending] = useActionState(createWebhookAction, null);
  const [all, setAll] = useState(true);
  const fields = state?.ok === false ? (state.error.fields ?? {}) : {};
  return (
    <div className="space-y-4">
      <FormError message={state?.ok === false && !state.error.fields ? state.error.message : undefined} />
      {state?.ok ? (
        <div className="rounded-md bg-emerald-50 p-3 text-sm text-emerald-900 ring-1 ring-emerald-200 dark:bg-emerald-950/50 dark:text-emerald-200 dark:ring-emerald-900">
          <p className="font-medium">Webhook created. Copy its signing secret now: it will not be shown again.</p>
          <div className="mt-2 flex items-center gap-2">
            <input
            readOnly
            aria-label="Signing secret"
            data-testid="new-webhook-secret"
            value={state.data.secret}
            className="w-full rounded bg-white px-2 py-1 font-mono text-xs dark:bg-slate-900"
            onFocus={(e) => e.target.select()}
          />
            <CopyButton text={state.data.secret} label="Copy secret" />
          </div>
        </div>
      ) : null}
      <form action={formAction} className="space-y-4" key={state?.ok ? state.at : 'form'}>
        <div className="grid gap-4 md:grid-cols-2">
          <Field label="Name" htmlFor="webhook-name" error={fields.name} hint="Where it goes, e.g. “#ops channel”.">
            <Input id="webhook-name" name="name" required maxLength={100} />
          </Field>
          <Field label="Format" htmlFor="webhook-format" error={fields.format} hint="Slack-compatible also suits Mattermost and Discord’s /slack endpoints.">
            <Select id="webhook-format" name="format" defaultValue="generic">
              <option value="generic">Generic JSON</option>
              <option value="slack">Slack-compatible ({'{text}'})</option>
            </Select>
          </Field>
          <Field label="URL" htmlFor="webhook-url" error={fields.url} hint="http:// or https://; Flotilla POSTs JSON here.">
            <Input id="webhook-url" name="url" type="url" required maxLength={2048} placeholder="https://hooks.example.com/flotilla" />
          </Field>
          <Field label="Signing secret (optional)" htmlFor="webhook-secret" error={fields.secret} hint="Leave empty to have one generated.">
            <Input id="webhook-secret" name="secret" autoComplete="off" maxLength={256} />
          </Field>
        </div>
        <fieldset>
          <legend className="text-sm font-medium text-slate-700 dark:text-slate-300">Events</legend>
          {fields.events ? <p className="text-xs text-red-600">{fields.events}</p> : null}
          <div className="mt-2 flex flex-wrap gap-x-6 gap-y-2">
            <label className="flex items-center gap-2 text-sm">
              <input type="checkbox" name="allEvents" checked={all} onChange={(e) => setAll(e.target.checked)} className="rounded border-slate-300" />
              All events, including ones added later
            </label>
            {events.map((e) => (
              <label key={e} className="flex items-center gap-2 text-sm">
                {/* Disabled boxes are not submitted: with "All events" the list stays empty, which means all. */}
                <input type="checkbox" name="events[]" value={e} disabled={all} className="rounded border-slate-300 disabled:opacity-50" />
                <span className="font-mono text-xs">{e}</span>
              </label>
            ))}
          </div>
        </fieldset>
        <Button type="submit" disabled={pending}>
          {pending ? 'Creating…' : 'Create webhook'}
        </Button>
      </form>
    </div>
  );
}

export function WebhookActions({ webhookId, name }: { webhookId: string; name: string }) {
  const router = useRouter();
  return (
    <span className="inline-flex items-start gap-1">
      <ActionButton run={() => sendTestWebhookAction(null, { webhookId })} onDone={() => router.refresh()} busyLabel="Sending…">
        Send test
      </ActionButton>
      <ActionButton run={() => deleteWebhookAction(null, { webhookId })} confirm={`Delete “${name}” and its delivery log?`}>
        Delete
      </ActionButton>
    </span>
  );
}

/** The worker delivers in the background: re-render while something is still pending, then stop. */
export function RefreshWhilePending({ pending }: { pending: boolean }) {
  const router = useRouter();
  useEffect(() => {
    if (!pending) return;
    const timer = setInterval(() => router.refresh(), 2000);
    return () => clearInterval(timer);
  }, [pending, router]);
  return null;
}
