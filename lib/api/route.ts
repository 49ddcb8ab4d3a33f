// The one wrapper for route handlers: it resolves the caller, checks the declared
// permission for the caller's organisation, parses params, query and body with zod,
// and maps errors to the documented JSON shape. No route handler is exported bare:
// tests walk every route file and fail on a handler without `meta`.
import type { NextRequest } from 'next/server';
import { z } from 'zod';
import type { Caller } from '@/lib/auth/caller';
import type { Permission } from '@/lib/auth/permissions';
import { requestCaller } from '@/lib/auth/request-caller';
import { AppError, errorResponse, validationError } from './errors';

export const MAX_BODY_BYTES = 1024 * 1024;

/** 'public': anyone; 'authenticated': any signed-in caller; otherwise a permission. */
export type Access = Permission | 'public' | 'authenticated';

export type RouteDef<P, Q, B> = {
  access: Access;
  summary: string;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  response?: z.ZodType;
  /** Status of a successful response, 200 unless said otherwise. */
  status?: number;
  /** Accept HTTP Basic e-mail:password (only `GET /me` and `POST /tokens`, for CLI login). */
  allowBasic?: boolean;
};

export type RouteContext<P, Q, B, A extends Access> = {
  req: NextRequest;
  caller: A extends 'public' ? Caller | null : Caller;
  params: P;
  query: Q;
  body: B;
};

export type RouteMeta = RouteDef<unknown, unknown, unknown>;
export type GuardedRoute = ((req: NextRequest, ctx: { params: Promise<Record<string, string | string[]>> }) => Promise<Response>) & {
  meta: RouteMeta;
};

export function route<A extends Access, P = undefined, Q = undefined, B = undefined>(
  def: RouteDef<P, Q, B> & { access: A },
  handler: (ctx: RouteContext<P, Q, B, A>) => Promise<Response | object>,
): GuardedRoute {
  const guarded = async (req: NextRequest, ctx: { params: Promise<Record<string, string | string[]>> }) => {
    try {
      const caller = await requestCaller(req, { allowBasic: def.allowBasic });
      authorize(def.access, caller);
      const params = parse(def.params, (await ctx?.params) ?? {}, 'path parameters');
      const query = parse(def.query, Object.fromEntries(req.nextUrl.searchParams), 'query');
      const body = def.body ? parse(def.body, await readJson(req), 'request body') : (undefined as B);
      const result = await handler({ req, caller: caller as RouteContext<P, Q, B, A>['caller'], params, query, body });
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

export function authorize(access: Access, caller: Caller | null): asserts caller is Caller {
  if (access === 'public') return;
  if (!caller) throw new AppError('unauthorized', 'Sign in or send an API token');
  if (access !== 'authenticated' && !caller.permissions.has(access)) {
    throw new AppError('forbidden', `Your role (${caller.role}) or token lacks the "${access}" permission in ${caller.org.name}`);
  }
}

function parse<T>(schema: z.ZodType<T> | undefined, value: unknown, what: string): T {
  if (!schema) return undefined as T;
  const result = schema.safeParse(value);
  if (!result.success) throw validationError(result.error, what);
  return result.data;
}

async function readJson(req: Request): Promise<unknown> {
  const type = req.headers.get('content-type') ?? '';
  if (!/^application\/([\w.+-]+\+)?json\b/i.test(type)) {
    throw new AppError('unsupported_media_type', 'Send the body as application/json');
  }
  const declared = Number(req.headers.get('content-length') ?? 0);
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const text = await readCapped(req);
  if (text.trim() === '') throw new AppError('invalid_json', 'The request body is empty; send a JSON object');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new AppError('invalid_json', `The request body is not valid JSON: ${(error as Error).message}`);
  }
}

// Content-Length can be absent (chunked) or lie, so count while reading.
async function readCapped(req: Request): Promise<string> {
  if (!req.body) return '';
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_BODY_BYTES) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function tooLarge() {
  return new AppError('payload_too_large', `The request body is larger than ${MAX_BODY_BYTES / 1024 / 1024} MiB`);
}

export const json = (body: unknown, status = 200) => Response.json(body, { status });
