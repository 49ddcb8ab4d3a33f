// The one wrapper for server actions, the twin of route(): it resolves the session
// caller, checks the declared permission, parses the input (FormData or an object)
// with zod, and turns errors into a state the form can show. `meta.run` runs the
// same checks with a given caller; the permission tests use it.
import { revalidatePath } from 'next/cache';
import type { z } from 'zod';
import type { Caller } from '@/lib/auth/caller';
import type { HostInReach } from '@/lib/hosts/reach';
import { assertNoControlCharacters } from './control-characters';
import { isDatabaseUnavailable } from '@/lib/db/errors';
import { AppError, databaseUnavailable, safeErrorForLog } from './errors';
import { authorize, parse, resolveHost, type Access } from './route';

export type ActionState<R = unknown> =
  | { ok: true; data: R; at: number }
  | { ok: false; error: { code: string; message: string; fields?: Record<string, string>; details?: unknown }; at: number }
  | null;

export type ActionDef<I> = {
  access: Access;
  input: z.ZodType<I>;
  /** The input field that names a host: resolved within the caller's reach and handed over as `host` (see route()). */
  host?: 'host';
  /** Paths whose server-rendered data the action changes. */
  revalidate?: string[];
};

export type ActionMeta = {
  access: Access;
  host?: 'host';
  run: (caller: Caller | null, input: unknown) => Promise<ActionState>;
};

export type GuardedAction<R> = ((prev: ActionState<R>, input: FormData | Record<string, unknown>) => Promise<ActionState<R>>) & {
  meta: ActionMeta;
};

export function action<I, R, A extends Access, H extends 'host' | undefined = undefined>(
  def: ActionDef<I> & { access: A; host?: H },
  fn: (ctx: { caller: A extends 'public' ? Caller | null : Caller; input: I; host: H extends 'host' ? HostInReach : undefined }) => Promise<R>,
): GuardedAction<R> {
  type Ctx = Parameters<typeof fn>[0];
  const run = async (caller: Caller | null, raw: unknown): Promise<ActionState<R>> => {
    try {
      authorize(def.access, caller);
      const fields = raw instanceof FormData ? formToObject(raw) : raw;
      assertNoControlCharacters(fields, 'input');
      // Before the rest of the input, as route() does: a host out of reach is refused whatever else is sent.
      const host = (def.host ? await resolveHost(caller, fields, def.host) : undefined) as Ctx['host'];
      const input = parse(def.input, fields, 'input');
      const data = await fn({ caller: caller as Ctx['caller'], input, host });
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
  return Object.assign(guarded, { meta: { access: def.access, host: def.host, run } });
}

function failure(error: unknown): ActionState<never> {
  if (error instanceof AppError) {
    const issues = (error.details as { issues?: { path: string; message: string }[] } | undefined)?.issues;
    const fields = issues ? Object.fromEntries(issues.map((i) => [i.path, i.message])) : undefined;
    return { ok: false, error: { code: error.code, message: error.message, fields, details: fields ? undefined : error.details }, at: Date.now() };
  }
  if (isDatabaseUnavailable(error)) return failure(databaseUnavailable());
  console.error('[action] unexpected error', safeErrorForLog(error));
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
