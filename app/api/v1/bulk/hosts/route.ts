import { z } from 'zod';
import { route } from '@/lib/api/route';
import { bulkChangeHosts } from '@/lib/hosts/bulk';
import { ZBulkHosts } from '@/lib/hosts/schemas';

export const POST = route(
  {
    access: 'hosts.write',
    summary: 'Add or remove tags, or add packages, on many hosts at once (all or nothing; one audit event per host)',
    body: ZBulkHosts,
    response: z.object({ hosts: z.array(z.object({ name: z.string(), tags: z.array(z.string()), configVersion: z.number().optional() })) }),
  },
  async ({ caller, body }) => bulkChangeHosts(caller, body),
);
