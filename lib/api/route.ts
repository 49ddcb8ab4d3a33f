// The one wrapper for route handlers: it resolves the caller, checks the declared
// permission for the caller's organisation, parses params, query and body with zod,
// resolves the host a host-scoped route names (organisation, assignment, a token's tag
// limit) and maps errors to the documented JSON shape. No route handler is exported
// bare: tests walk every route file and fail on a handler without `meta`.
import type { NextRequest } from 'next/server';
import { z } from 'zod';
import type { Caller } from '@/lib/auth/caller';
import type { Permission } from '@/lib/auth/permissions';
import { requestCaller } from '@/lib/auth/request-caller';
import { findHost, type HostInReach } from '@/lib/hosts/reach';
import { assertNoControlCharacters } from './control-characters';
import { AppError, errorResponse, validationError } from './errors';

export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * 'public': anyone; 'authenticated': any signed-in caller; otherwise a permission, or
 * several that must all be held (an operation whose effect spans them, such as
 * approving a request: it writes a config, builds and deploys).
 */
export type Access = Permission | readonly [Permission, ...Permission[]] | 'public' | 'authenticated';

export type RouteDef<P, Q, B> = {
  access: Access;
  /**
   * The path parameter that names a host: the wrapper resolves it within the caller's
   * reach (404 outside the organisation or the caller's assignments, 403 outside a
   * token's tags) and hands the handler `host`.
   */
  host?: 'name';
  summary: string;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  response?: z.ZodType;
  /** Status of a successful response, 200 unless said otherwise. */
  status?: number;
  /** Accept HTTP Basic e-mail:password (only `GET /me` and `POST /tokens`, for CLI login). */
  allowBasic?: boolean;
  /** A larger body than MAX_BODY_BYTES, where the body grows with the fleet (deploy.json for every host). */
  maxBodyBytes?: number;
};

export type RouteContext<P, Q, B, A extends Access, H extends 'name' | undefined = undefined> = {
  req: NextRequest;
  caller: A extends 'public' ? Caller | null : Caller;
  params: P;
  query: Q;
  body: B;
  host: H extends 'name' ? HostInReach : undefined;
};

export type RouteMeta = RouteDef<unknown, unknown, unknown>;
export type GuardedRoute = ((req: NextRequest, ctx: { params: Promise<Record<string, string | string[]>> }) => Promise<Response>) & {
  meta: RouteMeta;
};

export function route<A extends Access, P = undefined, Q = undefined, B = undefined, H extends 'name' | undefined = undefined>(
  def: RouteDef<P, Q, B> & { access: A; host?: H },
  handler: (ctx: RouteContext<P, Q, B, A, H>) => Promise<Response | object>,
): GuardedRoute {
  type Ctx = RouteContext<P, Q, B, A, H>;
  const guarded = async (req: NextRequest, ctx: { params: Promise<Record<string, string | string[]>> }) => {
    try {
      const caller = await requestCaller(req, { allowBasic: def.allowBasic });
      authorize(def.access, caller);
      const params = parse(def.params, (await ctx?.params) ?? {}, 'path parameters');
      // Before the query and body: a host out of reach is refused whatever else is sent.
      const host = (def.host ? await resolveHost(caller, params, def.host) : undefined) as Ctx['host'];
      const query = parse(def.query, Object.fromEntries(req.nextUrl.searchParams), 'query');
      const body = def.body ? parse(def.body, await readJson(req, def.maxBodyBytes ?? MAX_BODY_BYTES), 'request body') : (undefined as B);
      const result = await handler({ req, caller: caller as Ctx['caller'], params, query, body, host });
      return result instanceof Response ? result : Response.json(result, { status: def.status ?? 200 });
    } catch (error) {
      return errorResponse(error);
    }
  };
  return Object.assign(guarded, { meta: def as RouteMeta });
}

/** Marks a handler we do not write ourselves (next-auth's) as deliberately public. */
export function publicHandler<H extends (...args: never[]) => Promise<Response>>(summary: string, handler: H) {
  return Object.assign(handler, { meta: { access: 'public', summary } satisfies RouteMeta });
}

/** The permissions an access rule requires (none for 'public' and 'authenticated'). */
export function requiredPermissions(access: Access): readonly Permission[] {
  if (access === 'public' || access === 'authenticated') return [];
  return typeof access === 'string' ? [access] : access;
}

export function authorize(access: Access, caller: Caller | null): asserts caller is Caller {
  if (access === 'public') return;
  if (!caller) throw new AppError('unauthorized', 'Sign in or send an API token');
  const missing = requiredPermissions(access).filter((p) => !caller.permissions.has(p));
  if (missing.length) {
    const list = missing.map((p) => `"${p}"`).join(', ');
    throw new AppError('forbidden', `Your role (${caller.role}) or token lacks the ${list} permission${missing.length > 1 ? 's' : ''} in ${caller.org.name}`);
  }
}

/** The host a host-scoped entry point names, within the caller's reach. */
export async function resolveHost(caller: Caller | null, input: unknown, key: string): Promise<HostInReach> {
  if (!caller) throw new AppError('unauthorized', 'Sign in or send an API token');
  const name = (input as Record<string, unknown> | undefined)?.[key];
  if (typeof name !== 'string' || name.length === 0 || name.length > 253) {
    throw new AppError('invalid_request', `Invalid input at "${key}": name a host`, { issues: [{ path: key, message: 'Name a host' }] });
  }
  return findHost(caller, name);
}

export function parse<T>(schema: z.ZodType<T> | undefined, value: unknown, what: string): T {
  assertNoControlCharacters(value, what);
  if (!schema) return undefined as T;
  const result = schema.safeParse(value);
  if (!result.success) throw validationError(result.error, what);
  return result.data;
}

async function readJson(req: Request, limit: number): Promise<unknown> {
  const type = req.headers.get('content-type') ?? '';
  if (!/^application\/([\w.+-]+\+)?json\b/i.test(type)) {
    throw new AppError('unsupported_media_type', 'Send the body as application/json');
  }
  const declared = Number(req.headers.get('content-length') ?? 0);
  if (declared > limit) throw tooLarge(limit);
  const text = await readCapped(req, limit);
  if (text.trim() === '') throw new AppError('invalid_json', 'The request body is empty; send a JSON object');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new AppError('invalid_json', `The request body is not valid JSON: ${(error as Error).message}`);
  }
}

// Content-Length can be absent (chunked) or lie, so count while reading.
async function readCapped(req: Request, limit: number): Promise<string> {
  if (!req.body) return '';
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function tooLarge(limit: number) {
  return new AppError('payload_too_large', `The request body is larger than ${limit / 1024 / 1024} MiB`);
}

export const json = (body: unknown, status = 200) => Response.json(body, { status });
