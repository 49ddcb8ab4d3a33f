'use client';

// Asking for software on one machine: search the fleet's package index and ask for an
// install, ask for an installed package to be removed, or describe something else in
// words. The server's refusals (a never-allowed package and its reason, a machine that
// is not yours) are shown here, in the dialog.
import clsx from 'clsx';
import { useRouter } from 'next/navigation';
import { useState, useTransition } from 'react';
import { actionError } from '@/components/requests/action-error';
import { textareaClass } from '@/components/requests/comment-thread';
import { Modal } from '@/components/ui/modal';
import { PackageSearch, type PackageHit } from '@/components/requests/package-search';
import { Button } from '@/components/ui/button';
import { FormError } from '@/components/ui/form';
import type { ActionState } from '@/lib/api/action';
import { createRequestAction } from '../requests/actions';

export type DialogMode = { kind: 'install' } | { kind: 'remove'; package: string } | { kind: 'change' };

type Props = { host: string; unavailable: Record<string, string>; mode: DialogMode; onClose: () => void };

function ModeSwitch({ mode, onChange }: { mode: 'install' | 'change'; onChange: (m: 'install' | 'change') => void }) {
  const option = (value: 'install' | 'change', label: string) => (
    <button
      type="button"
      role="tab"
      aria-selected={mode === value}
      onClick={() => onChange(value)}
      className={clsx(
        'flex-1 rounded-md px-3 py-1.5 text-sm font-medium',
        mode === value ? 'bg-white text-slate-900 shadow-sm ring-1 ring-slate-200 dark:bg-slate-700 dark:text-white dark:ring-slate-600' : 'text-slate-600 hover:text-slate-900 dark:text-slate-400 dark:hover:text-white',
      )}
    >
      {label}
    </button>
  );
  return (
    <div role="tablist" aria-label="What to ask for" className="flex gap-1 rounded-lg bg-slate-100 p-1 dark:bg-slate-800">
      {option('install', 'Install software')}
      {option('change', 'Something else')}
    </div>
  );
}

export function RequestDialog({ host, unavailable, mode: initial, onClose }: Props) {
  const router = useRouter();
  const [mode, setMode] = useState<DialogMode>(initial);
  const [picked, setPicked] = useState<PackageHit | null>(null);
  const [text, setText] = useState('');
  const [reason, setReason] = useState('');
  const [state, setState] = useState<ActionState<{ id: string; autoApproved: boolean }>>(null);
  const [busy, start] = useTransition();
  const fields = state?.ok === false ? (state.error.fields ?? {}) : {};

  const input =
    mode.kind === 'install' ? (picked ? { host, kind: 'install' as const, package: picked.attr, reason } : null) : mode.kind === 'remove' ? { host, kind: 'remove' as const, package: mode.package, reason } : { host, kind: 'change' as const, text, reason };
  const submit = () =>
    start(async () => {
      if (!input) return;
      const result = await createRequestAction(null, input);
      setState(result);
      if (result?.ok) router.push(`/requests/${result.data.id}`);
    });

  const title = mode.kind === 'remove' ? `Remove ${mode.package} from ${host}` : `Request software for ${host}`;
  return (
    <Modal
      width="medium"
      title={title}
      description="IT reviews your request; you can follow it on its page and are notified when it is live."
      onClose={onClose}
      footer={
        <>
          <Button variant="secondary" onClick={onClose} disabled={busy}>
            Cancel
          </Button>
          <Button onClick={submit} disabled={busy || !input}>
            {busy ? 'Sending…' : 'Send request'}
          </Button>
        </>
      }
    >
      <form
        className="space-y-5"
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        {mode.kind !== 'remove' ? <ModeSwitch mode={mode.kind} onChange={(kind) => setMode({ kind })} /> : null}
        {mode.kind === 'install' ? (
          <div className="space-y-2">
            <p className="text-sm font-medium text-slate-700 dark:text-slate-300">Which software?</p>
            <PackageSearch selected={picked?.attr ?? null} onSelect={setPicked} unavailable={unavailable} autoFocus />
            {picked ? (
              <p className="text-sm" data-testid="picked-package">
                Install <span className="font-mono font-medium">{picked.attr}</span> <span className="text-slate-500 dark:text-slate-400">{picked.version}</span>
              </p>
            ) : (
              <p className="text-xs text-slate-500 dark:text-slate-400">Search, then pick a package from the list.</p>
            )}
          </div>
        ) : mode.kind === 'remove' ? (
          <p className="text-sm text-slate-600 dark:text-slate-300">
            Ask IT to remove <span className="font-mono font-medium">{mode.package}</span> from {host}.
          </p>
        ) : (
          <div className="space-y-1.5">
            <label htmlFor="request-text" className="block text-sm font-medium text-slate-700 dark:text-slate-300">
              What do you need?
            </label>
            <textarea
              id="request-text"
              rows={4}
              className={textareaClass}
              placeholder="e.g. “Please add the office printer” or “I need Docker for a training next week”"
              value={text}
              onChange={(e) => setText(e.target.value)}
              maxLength={4000}
            />
            {fields.text ? <p className="text-xs text-red-600 dark:text-red-400">{fields.text}</p> : null}
          </div>
        )}
        <div className="space-y-1.5">
          <label htmlFor="request-reason" className="block text-sm font-medium text-slate-700 dark:text-slate-300">
            Why do you need it?
          </label>
          <textarea id="request-reason" rows={3} className={textareaClass} placeholder="A few words for IT" value={reason} onChange={(e) => setReason(e.target.value)} maxLength={2000} />
          {fields.reason ? <p className="text-xs text-red-600 dark:text-red-400">{fields.reason}</p> : null}
        </div>
        {/* Field problems are shown at their field; anything else (a policy's refusal, a 403) here. */}
        <FormError message={state?.ok === false && !state.error.fields ? actionError(state) : undefined} />
      </form>
    </Modal>
  );
}
