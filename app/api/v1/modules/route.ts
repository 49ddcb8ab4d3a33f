import { z } from 'zod';
import { route } from '@/lib/api/route';
import { createModule, listModules } from '@/lib/hosts/modules';
import { ZCreateModule } from '@/lib/hosts/schemas';

export const GET = route(
  {
    access: 'fleet.read',
    summary: 'List shared modules',
    response: z.object({ modules: z.array(z.object({ name: z.string(), tags: z.array(z.string()), version: z.number(), createdAt: z.string() })) }),
  },
  async ({ caller }) => ({ modules: await listModules(caller) }),
);

export const POST = route(
  { access: 'hosts.write', summary: 'Create a shared module applied to hosts by tag', body: ZCreateModule, status: 201, response: z.object({ name: z.string(), version: z.number() }) },
  async ({ caller, body }) => createModule(caller, body),
);
