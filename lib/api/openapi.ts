// The OpenAPI document, generated from the same zod schemas the routes parse with.
import { z } from 'zod';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from 'zod-openapi';
import { ERROR_STATUS } from './errors';
import { MAX_BODY_BYTES, requiredPermissions, type GuardedRoute, type RouteMeta } from './route';

/** A route file's exports, as app/api/v1/registry.ts lists them. */
export type RouteModule = Partial<Record<'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', GuardedRoute>>;

const ZError = z
  .object({ error: z.object({ code: z.enum(Object.keys(ERROR_STATUS) as [string, ...string[]]), message: z.string(), details: z.unknown().optional() }) })
  .meta({ id: 'Error' });

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: ZError } } });

/** Who may call it, in words: the permissions it needs, and whether it acts on one host within the caller's reach. */
function describeAccess(meta: RouteMeta): string {
  if (meta.access === 'public') return 'No authentication needed.';
  const needs = requiredPermissions(meta.access).map((p) => `\`${p}\``);
  const who = needs.length ? `Requires the ${needs.join(' + ')} permission${needs.length > 1 ? 's' : ''}.` : 'Any signed-in caller.';
  const host = meta.host
    ? " The host must be within the caller's reach: a host of another organisation, or (for requesters) one not assigned to them, is 404; one outside a tag-limited token's tags is 403."
    : '';
  return who + host;
}

export function buildOpenApiDocument(routes: { path: string; module: RouteModule }[], serverUrl: string) {
  const paths: ZodOpenApiPathsObject = {};
  for (const { path, module } of routes) {
    for (const [method, handler] of Object.entries(module)) {
      if (!handler?.meta) continue;
      const meta = handler.meta;
      const status = String(meta.status ?? 200);
      const operation: ZodOpenApiOperationObject = {
        summary: meta.summary,
        description: describeAccess(meta),
        security: meta.access === 'public' ? [] : meta.allowBasic ? [{ bearer: [] }, { session: [] }, { basic: [] }] : [{ bearer: [] }, { session: [] }],
        requestParams: {
          ...(meta.params ? { path: meta.params as z.ZodObject } : {}),
          ...(meta.query ? { query: meta.query as z.ZodObject } : {}),
        },
        ...(meta.body ? { requestBody: { required: true, content: { 'application/json': { schema: meta.body } } } } : {}),
        responses: {
          [status]: meta.response
            ? { description: 'Success', content: { 'application/json': { schema: meta.response } } }
            : { description: 'Success' },
          ...(meta.body ? { '400': errorResponse('Malformed JSON or a field of the wrong type'), '413': errorResponse(`Body larger than ${(meta.maxBodyBytes ?? MAX_BODY_BYTES) / 1024 / 1024} MiB`) } : {}),
          ...(meta.access === 'public' ? {} : { '401': errorResponse('Missing, invalid, expired or revoked credentials'), '403': errorResponse('The caller lacks the permission') }),
          '429': errorResponse('Too many failed authentication attempts'),
        },
      };
      paths[path] = { ...paths[path], [method.toLowerCase()]: operation };
    }
  }
  return createDocument({
    openapi: '3.1.0',
    info: { title: 'Flotilla API', version: '1', description: 'Fleet management for NixOS. Authenticate with `Authorization: Bearer <api token>`.' },
    servers: [{ url: `${serverUrl}/api/v1` }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An API token from Settings → API tokens' },
        basic: { type: 'http', scheme: 'basic', description: 'E-mail and password (only to create a token, for CLI login)' },
        session: { type: 'apiKey', in: 'cookie', name: 'next-auth.session-token' },
      },
    },
    paths,
  });
}
