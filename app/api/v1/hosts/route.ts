import { z } from 'zod';
import { route } from '@/lib/api/route';
import { hostsCsv } from '@/lib/hosts/export';
import { createHost, listHosts } from '@/lib/hosts/inventory';
import { ZCreateHost, ZHostListQuery, ZHostSummary } from '@/lib/hosts/schemas';

export const GET = route(
  {
    access: 'authenticated',
    summary: 'List hosts (requesters see only the hosts assigned to them); search, filter, sort, paginate; format=csv exports every matching host',
    query: ZHostListQuery.extend({ format: z.enum(['json', 'csv']).default('json') }),
    response: z.object({ hosts: z.array(ZHostSummary), total: z.number(), page: z.number(), pageSize: z.number() }),
  },
  async ({ caller, query }) => {
    if (query.format === 'csv') {
      const day = new Date().toISOString().slice(0, 10);
      return new Response(hostsCsv(caller, query), { headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="hosts-${day}.csv"` } });
    }
    return listHosts(caller, query);
  },
);

export const POST = route(
  {
    access: 'hosts.write',
    summary: 'Create a host; returns its one-time enroll token',
    body: ZCreateHost,
    status: 201,
    response: z.object({ name: z.string(), enrollToken: z.string(), enrollTokenExpiresAt: z.string() }),
  },
  async ({ caller, body }) => {
    const { host, enrollToken, enrollTokenExpiresAt } = await createHost(caller, body);
    return { name: host.name, enrollToken, enrollTokenExpiresAt };
  },
);
