import { z } from 'zod';
import { revokeHostCredential } from '@/lib/agents/credentials';
import { route } from '@/lib/api/route';

const params = z.object({ name: z.string().max(63) });

export const DELETE = route(
  {
    access: 'hosts.write',
    host: 'name',
    summary: "Revoke the host's credential: its agent is disconnected at once and must enrol again with a new enroll token",
    params,
    status: 204,
  },
  async ({ caller, host }) => {
    await revokeHostCredential(caller, host);
    return new Response(null, { status: 204 });
  },
);
