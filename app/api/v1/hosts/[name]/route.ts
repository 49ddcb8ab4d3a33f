import { z } from 'zod';
import { route } from '@/lib/api/route';
import { hostDetail } from '@/lib/hosts/detail';
import { retireHost, updateHost } from '@/lib/hosts/inventory';
import { ZUpdateHost } from '@/lib/hosts/schemas';

const params = z.object({ name: z.string().max(63) });

export const GET = route({ access: 'authenticated', summary: 'A host with its health, modules and recent deployments', params }, async ({ caller, params }) =>
  hostDetail(caller, params.name),
);

export const PATCH = route({ access: 'hosts.write', summary: 'Rename a host, change its tags or assignees', params, body: ZUpdateHost }, async ({ caller, params, body }) => {
  const host = await updateHost(caller, params.name, body);
  return hostDetail(caller, host.name);
});

export const DELETE = route({ access: 'hosts.write', summary: 'Retire a host (history is kept; its name and credentials are freed)', params, status: 204 }, async ({ caller, params }) => {
  await retireHost(caller, params.name);
  return new Response(null, { status: 204 });
});
