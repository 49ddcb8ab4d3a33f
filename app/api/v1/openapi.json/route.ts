import { buildOpenApiDocument } from '@/lib/api/openapi';
import { route } from '@/lib/api/route';
import { env } from '@/lib/env';
import { API_ROUTES } from '../registry';

let cached: object | undefined;

export const GET = route({ access: 'public', summary: 'This API described as OpenAPI 3.1' }, async () => {
  cached ??= buildOpenApiDocument(API_ROUTES, env().publicUrl);
  return cached;
});
