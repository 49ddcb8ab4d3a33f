import type { ActionState } from '@/lib/api/action';

/** What to show for a failed action: the field's own words ("Tell the requester why") before the generic message. */
export function actionError(state: ActionState<unknown>): string | undefined {
  if (!state || state.ok) return undefined;
  const fields = Object.values(state.error.fields ?? {});
  return fields.length ? fields.join('; ') : state.error.message;
}
