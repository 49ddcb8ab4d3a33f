// The OpenAPI document is generated from the routes' own schemas at request time: a schema
// zod-openapi cannot describe (a transform in a response) would make it a 500. Built here
// from the same registry, with every route's description of who may call it.
import { expect, it } from 'vitest';
import { API_ROUTES } from '@/app/api/v1/registry';
import { buildOpenApiDocument } from '@/lib/api/openapi';

it('describes every route, and who may call it', () => {
  const doc = buildOpenApiDocument(API_ROUTES, 'http://localhost:3000');
  expect(doc.openapi).toBe('3.1.0');
  const paths = doc.paths ?? {};
  expect(Object.keys(paths)).toEqual(expect.arrayContaining(['/hosts/{name}/config', '/requests/{id}/approve', '/deployments/{id}']));
  expect(paths['/requests/{id}/approve']?.post?.description).toContain('`requests.review` + `hosts.write` + `builds.run` + `deployments.write`');
  expect(paths['/hosts/{name}/config']?.put?.description).toMatch(/within the caller's reach/);
});
