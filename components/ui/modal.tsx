'use client';

// A modal on the native <dialog>: the browser gives it focus trapping, Escape and
// the inert page behind it. Mounted means open; the parent unmounts it to close.
import { useEffect, useId, useRef, useState, useTransition, type ReactNode } from 'react';
import { Button } from '@/components/ui/button';
import { FormError } from '@/components/ui/form';
import type { ActionState } from '@/lib/api/action';

const WIDTH = { narrow: 'max-w-lg', medium: 'max-w-xl', wide: 'max-w-4xl' } as const;

export function Modal({ title, description, onClose, footer, width = 'narrow', children }: { title: string; description?: ReactNode; onClose: () => void; footer?: ReactNode; width?: keyof typeof WIDTH; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      // Escape closes through the parent, so its state stays the one truth about being open.
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
      className={`m-auto max-h-[92vh] w-[calc(100%-2rem)] overflow-hidden rounded-xl bg-white p-0 text-slate-900 shadow-2xl ring-1 ring-slate-200 backdrop:bg-slate-950/60 backdrop:backdrop-blur-[1px] dark:bg-slate-900 dark:text-slate-100 dark:ring-slate-700 ${WIDTH[width]}`}
    >
      <div className="flex max-h-[92vh] flex-col">
        <div className="flex items-start justify-between gap-4 border-b border-slate-200 px-5 py-4 dark:border-slate-800">
          <div>
            <h2 id={titleId} className="text-base font-semibold">
              {title}
            </h2>
            {description ? <div className="mt-0.5 text-sm text-slate-500 dark:text-slate-400">{description}</div> : null}
          </div>
          <button type="button" onClick={onClose} aria-label="Close" className="rounded-md p-1 text-slate-400 hover:bg-slate-100 hover:text-slate-700 dark:hover:bg-slate-800 dark:hover:text-slate-200">
            <svg viewBox="0 0 20 20" fill="currentColor" className="h-5 w-5" aria-hidden>
              <path d="M6.28 5.22a.75.75 0 0 0-1.06 1.06L8.94 10l-3.72 3.72a.75.75 0 1 0 1.06 1.06L10 11.06l3.72 3.72a.75.75 0 1 0 1.06-1.06L11.06 10l3.72-3.72a.75.75 0 0 0-1.06-1.06L10 8.94 6.28 5.22Z" />
            </svg>
          </button>
        </div>
        <div className="min-h-0 flex-1 overflow-y-auto px-5 py-4">{children}</div>
        {footer ? <div className="flex flex-wrap items-center justify-end gap-2 border-t border-slate-200 bg-slate-50 px-5 py-3 dark:border-slate-800 dark:bg-slate-900/60">{footer}</div> : null}
      </div>
    </dialog>
  );
}

/** Asks before an action that cannot be taken back, runs it, and shows its error in place. */
export function ConfirmDialog<R>({
  title,
  confirmLabel,
  dismissLabel = 'Back',
  busyLabel,
  run,
  onDone,
  onClose,
  children,
}: {
  title: string;
  confirmLabel: string;
  dismissLabel?: string;
  busyLabel: string;
  run: () => Promise<ActionState<R>>;
  onDone: (data: R) => void;
  onClose: () => void;
  children: ReactNode;
}) {
  const [busy, start] = useTransition();
  const [error, setError] = useState<string>();
  return (
    <Modal
      title={title}
      onClose={onClose}
      footer={
        <>
          <Button variant="secondary" onClick={onClose} disabled={busy}>
            {dismissLabel}
          </Button>
          <Button
            variant="danger"
            disabled={busy}
            onClick={() =>
              start(async () => {
                const result = await run();
                if (result?.ok) onDone(result.data);
                else if (result) setError(result.error.message);
              })
            }
          >
            {busy ? busyLabel : confirmLabel}
          </Button>
        </>
      }
    >
      <div className="space-y-3 text-sm text-slate-600 dark:text-slate-300">
        {children}
        <FormError message={error} />
      </div>
    </Modal>
  );
}
