'use client';

import { useRouter } from 'next/navigation';
import { useActionState, useState } from 'react';
import { Button } from '@/components/ui/button';
import { Field, FormError, Input, Select } from '@/components/ui/form';
import { ConfirmDialog } from '@/components/ui/modal';
import type { TAlertRule } from '@/lib/health/alerts';
import { createAlertRuleAction, deleteAlertRuleAction } from './actions';
import { KINDS } from './kinds';

type Kind = TAlertRule['kind'];

export function CreateAlertRuleForm() {
  const [state, formAction, pending] = useActionState(createAlertRuleAction, null);
  const [kind, setKind] = useState<Kind>('host-offline');
  const fields = state?.ok === false ? (state.error.fields ?? {}) : {};
  const threshold = KINDS[kind].threshold;
  return (
    // A new key after each success empties the form for the next rule.
    <form action={formAction} className="space-y-4" key={state?.ok ? state.at : 'form'}>
      <FormError message={state?.ok === false && !state.error.fields ? state.error.message : undefined} />
      {state?.ok ? (
        <p role="status" className="text-sm text-emerald-700 dark:text-emerald-400">
          Rule added. It is evaluated every minute.
        </p>
      ) : null}
      <div className="grid gap-4 md:grid-cols-2">
        <Field label="Name" htmlFor="alert-name" error={fields.name} hint="What the alert says, e.g. “Laptops offline”.">
          <Input id="alert-name" name="name" required maxLength={100} />
        </Field>
        <Field label="When" htmlFor="alert-kind" error={fields.kind}>
          <Select id="alert-kind" name="kind" value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
            {(Object.keys(KINDS) as Kind[]).map((k) => (
              <option key={k} value={k}>
                {KINDS[k].label}
              </option>
            ))}
          </Select>
        </Field>
        {threshold ? (
          <Field label={threshold.label} htmlFor="alert-threshold" error={fields.threshold} hint={threshold.hint}>
            <Input id="alert-threshold" name="threshold" type="number" min={1} required placeholder={threshold.placeholder} />
          </Field>
        ) : null}
        <Field label="Only hosts tagged (optional)" htmlFor="alert-tags" error={fields.tags ?? fields['tags.0']} hint="Comma-separated; empty means every host.">
          <Input id="alert-tags" name="tags" placeholder="laptops, eu" />
        </Field>
      </div>
      <Button type="submit" disabled={pending}>
        {pending ? 'Adding…' : 'Add rule'}
      </Button>
    </form>
  );
}

export function DeleteAlertRule({ id, name }: { id: string; name: string }) {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button variant="ghost" size="sm" onClick={() => setOpen(true)} aria-label={`Delete the rule ${name}`}>
        Delete
      </Button>
      {open ? (
        <ConfirmDialog
          title={`Delete “${name}”?`}
          confirmLabel="Delete rule"
          busyLabel="Deleting…"
          run={() => deleteAlertRuleAction(null, { id })}
          onDone={() => {
            setOpen(false);
            router.refresh();
          }}
          onClose={() => setOpen(false)}
        >
          <p>Its open alerts stop and its history goes with it. Webhooks are not told that open alerts resolved.</p>
        </ConfirmDialog>
      ) : null}
    </>
  );
}
