'use client';

// A button that runs one server action, shows it is busy, asks first when told to,
// and shows the action's error next to itself.
import { useState, useTransition, type ReactNode } from 'react';
import type { ActionState } from '@/lib/api/action';
import { Button } from './button';

type Props<R> = {
  run: () => Promise<ActionState<R>>;
  onDone?: (data: R) => void;
  confirm?: string;
  variant?: 'primary' | 'secondary' | 'danger' | 'ghost';
  size?: 'sm' | 'md';
  busyLabel?: ReactNode;
  children: ReactNode;
};

export function ActionButton<R>({ run, onDone, confirm: question, variant = 'ghost', size = 'sm', busyLabel, children }: Props<R>) {
  const [busy, start] = useTransition();
  const [error, setError] = useState<string>();
  return (
    <span className="inline-flex flex-col items-end gap-1">
      <Button
        variant={variant}
        size={size}
        disabled={busy}
        onClick={() => {
          if (question && !window.confirm(question)) return;
          start(async () => {
            const result = await run();
            if (result?.ok) {
              setError(undefined);
              onDone?.(result.data);
            } else if (result) setError(result.error.message);
          });
        }}
      >
        {busy && busyLabel ? busyLabel : children}
      </Button>
      {error ? <span className="text-xs text-red-600">{error}</span> : null}
    </span>
  );
}
