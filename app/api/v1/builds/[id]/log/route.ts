import { z } from 'zod';
import { route } from '@/lib/api/route';
import { getBuild } from '@/lib/builds/queries';

export const GET = route({ access: 'authenticated', summary: "A build's log as plain text", params: z.object({ id: z.uuid() }) }, async ({ caller, params }) => {
  const build = await getBuild(caller, params.id);
  return new Response(build.log, { headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' } });
});
