// The one wrapper for server actions, the twin of route(): it resolves the session
// caller, checks the declared permission, parses the input (FormData or an object)
// with zod, and turns errors into a state the form can show. `meta.run` runs the
// same checks with a given caller; the permission tests use it.
import { revalidatePath } from 'next/cache';
import type { z } from 'zod';
import type { Caller } from '@/lib/auth/caller';
import { AppError, validationError } from './errors';
import { authorize, type Access } from './route';

export type ActionState<R = unknown> =
  | { ok: true; data: R; at: number }
  | { ok: false; error: { code: string; message: string; fields?: Record<string, string>; details?: unknown }; at: number }
  | null;

export type ActionDef<I> = {
  access: Access;
  input: z.ZodType<I>;
  /** Paths whose server-rendered data the action changes. */
  revalidate?: string[];
};

export type ActionMeta = {
  access: Access;
  run: (caller: Caller | null, input: unknown) => Promise<ActionState>;
};

export type GuardedAction<R> = ((prev: ActionState<R>, input: FormData | Record<string, unknown>) => Promise<ActionState<R>>) & {
  meta: ActionMeta;
};

export function action<I, R, A extends Access>(
  def: ActionDef<I> & { access: A },
  fn: (ctx: { caller: A extends 'public' ? Caller | null : Caller; input: I }) => Promise<R>,
): GuardedAction<R> {
  const run = async (caller: Caller | null, raw: unknown): Promise<ActionState<R>> => {
    try {
      authorize(def.access, caller);
      const parsed = def.input.safeParse(raw instanceof FormData ? formToObject(raw) : raw);
      if (!parsed.success) throw validationError(parsed.error, 'input');
      const data = await fn({ caller: caller as A extends 'public' ? Caller | null : Caller, input: parsed.data });
      return { ok: true, data, at: Date.now() };
    } catch (error) {
      return failure(error);
    }
  };
  const guarded = async (_prev: ActionState<R>, input: FormData | Record<string, unknown>) => {
    const { sessionCaller } = await import('@/lib/auth/session');
    const result = await run(await sessionCaller(), input);
    if (result?.ok) for (const path of def.revalidate ?? []) revalidatePath(path);
    return result;
  };
  return Object.assign(guarded, { meta: { access: def.access, run } });
}

function failure(error: unknown): ActionState<never> {
  if (error instanceof AppError) {
    const issues = (error.details as { issues?: { path: string; message: string }[] } | undefined)?.issues;
    const fields = issues ? Object.fromEntries(issues.map((i) => [i.path, i.message])) : undefined;
    return { ok: false, error: { code: error.code, message: error.message, fields, details: fields ? undefined : error.details }, at: Date.now() };
  }
  console.error('[action] unexpected error', error);
  return { ok: false, error: { code: 'internal', message: 'Something went wrong; the error was logged' }, at: Date.now() };
}

/** Keys ending in [] (checkbox groups) become arrays; React's internal fields are dropped. */
function formToObject(form: FormData): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of new Set(form.keys())) {
    if (key.startsWith('$ACTION')) continue;
    const values = form.getAll(key).filter((v): v is string => typeof v === 'string');
    if (key.endsWith('[]')) out[key] = values;
    // An empty optional input means "not given", as it would be in a JSON body.
    else if (values.length > 1) out[key] = values;
    else if (values[0] !== undefined && values[0] !== '') out[key] = values[0];
  }
  for (const key of Object.keys(out)) {
    if (key.endsWith('[]')) {
      out[key.slice(0, -2)] = out[key];
      delete out[key];
    }
  }
  return out;
}
