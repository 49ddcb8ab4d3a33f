import { z } from 'zod';
import { route } from '@/lib/api/route';
import { listVersions } from '@/lib/hosts/configs';

export const GET = route(
  {
    access: 'authenticated',
    summary: "A host's config history, newest first",
    params: z.object({ name: z.string().max(63) }),
    host: 'name',
    response: z.object({
      versions: z.array(z.object({ version: z.number(), message: z.string(), author: z.string().nullable(), createdAt: z.string(), packageCount: z.number() })),
    }),
  },
  async ({ host }) => ({ versions: await listVersions(host) }),
);
