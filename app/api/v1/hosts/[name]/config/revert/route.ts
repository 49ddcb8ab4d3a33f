import { z } from 'zod';
import { route } from '@/lib/api/route';
import { revertConfig } from '@/lib/hosts/configs';

export const POST = route(
  {
    access: 'hosts.write',
    summary: 'Revert to an earlier version (a new version with its content); 409 on a stale baseVersion',
    params: z.object({ name: z.string().max(63) }),
    host: 'name',
    body: z.strictObject({ toVersion: z.number().int().min(1), baseVersion: z.number().int().min(1) }),
    response: z.object({ version: z.number(), changed: z.boolean() }),
  },
  async ({ caller, host, body }) => revertConfig(caller, host, body.toVersion, body.baseVersion),
);
