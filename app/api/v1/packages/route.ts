import { z } from 'zod';
import { route } from '@/lib/api/route';
import { orgNixpkgsSource } from '@/lib/packages/org-source';
import { indexStatus, searchPackages } from '@/lib/packages/search';

export const GET = route(
  {
    access: 'authenticated',
    summary: "Search the package index of the organisation's nixpkgs source",
    query: z.object({ q: z.string().max(100).default(''), limit: z.coerce.number().int().min(1).max(100).default(20) }),
    response: z.object({
      source: z.string(),
      index: z.object({ status: z.string(), packageCount: z.number(), finishedAt: z.string().nullable() }).nullable(),
      packages: z.array(z.object({ attr: z.string(), pname: z.string(), version: z.string(), description: z.string() })),
    }),
  },
  async ({ caller, query }) => {
    const source = await orgNixpkgsSource(caller.org.id);
    const status = await indexStatus(source.key);
    return {
      source: source.key,
      index: status ? { status: status.status, packageCount: status.packageCount, finishedAt: status.finishedAt?.toISOString() ?? null } : null,
      packages: await searchPackages(source.key, query.q, query.limit),
    };
  },
);
