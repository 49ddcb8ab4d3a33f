'use client';

// useActionState for a form, keeping what was typed. React resets a form once its action
// ends, so a refused form would come back empty; giving each input
// `defaultValue={submitted('name')}` makes the reset land on the values just sent.
// `then` runs after the action in the same transition (e.g. sign in with the password
// that was sent, which the reset form no longer holds).
import { useActionState } from 'react';
import type { ActionState } from '@/lib/api/action';

type Submitted<R> = { state: ActionState<R>; values: FormData | null };

export function useFormAction<R>(action: (prev: ActionState<R>, form: FormData) => Promise<ActionState<R>>, then?: (state: ActionState<R>, form: FormData) => Promise<void>) {
  const [{ state, values }, formAction, pending] = useActionState<Submitted<R>, FormData>(
    async (prev, form) => {
      const next = await action(prev.state, form);
      await then?.(next, form);
      return { state: next, values: form };
    },
    { state: null, values: null },
  );
  /** The value sent for a field by the last submission; undefined before the first. */
  const submitted = (name: string): string | undefined => {
    const value = values?.get(name);
    return typeof value === 'string' ? value : undefined;
  };
  return { state, formAction, pending, submitted };
}
