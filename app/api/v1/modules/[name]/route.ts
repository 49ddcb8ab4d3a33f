import { z } from 'zod';
import { route } from '@/lib/api/route';
import { getModule, retireModule, saveModule } from '@/lib/hosts/modules';
import { ZSaveModule } from '@/lib/hosts/schemas';

const params = z.object({ name: z.string().max(63) });

export const GET = route(
  { access: 'fleet.read', summary: 'A shared module (latest, or ?version=N) with its history', params, query: z.object({ version: z.coerce.number().int().min(1).optional() }) },
  async ({ caller, params, query }) => getModule(caller, params.name, query.version),
);

export const PUT = route(
  { access: 'hosts.write', summary: 'Save a new module version and/or its tags; 409 on a stale baseVersion, 422 on a syntax error', params, body: ZSaveModule },
  async ({ caller, params, body }) => saveModule(caller, params.name, body),
);

export const DELETE = route({ access: 'hosts.write', summary: 'Retire a shared module', params, status: 204 }, async ({ caller, params }) => {
  await retireModule(caller, params.name);
  return new Response(null, { status: 204 });
});
