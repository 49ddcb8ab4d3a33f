import { z } from 'zod';
import { route } from '@/lib/api/route';
import { hostDetail } from '@/lib/hosts/detail';
import { retireHost, updateHost } from '@/lib/hosts/inventory';
import { findHost } from '@/lib/hosts/reach';
import { ZUpdateHost } from '@/lib/hosts/schemas';

const params = z.object({ name: z.string().max(63) });

export const GET = route({ access: 'authenticated', summary: 'A host with its health, modules and recent deployments', params, host: 'name' }, async ({ caller, host }) =>
  hostDetail(caller, host),
);

export const PATCH = route({ access: 'hosts.write', summary: 'Rename a host, change its tags or assignees', params, host: 'name', body: ZUpdateHost }, async ({ caller, host, body }) => {
  const updated = await updateHost(caller, host, body);
  return hostDetail(caller, await findHost(caller, updated.name));
});

export const DELETE = route({ access: 'hosts.write', summary: 'Retire a host (history is kept; its name and credentials are freed)', params, host: 'name', status: 204 }, async ({ caller, host }) => {
  await retireHost(caller, host);
  return new Response(null, { status: 204 });
});
