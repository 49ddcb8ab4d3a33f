import { z } from 'zod';
import { route } from '@/lib/api/route';
import { userMemberships } from '@/lib/auth/membership';
import { ZRole } from '@/lib/orgs/schemas';

export const GET = route(
  {
    access: 'authenticated',
    summary: 'Who the caller is, in which organisation, with which permissions',
    // `flotilla login` asks this with e-mail and password to learn which scopes its token may have.
    allowBasic: true,
    response: z.object({
      user: z.object({ id: z.uuid(), email: z.string(), name: z.string() }),
      org: z.object({ id: z.uuid(), slug: z.string(), name: z.string() }),
      role: ZRole,
      permissions: z.array(z.string()),
      via: z.enum(['session', 'token', 'password']),
      organizations: z.array(z.object({ slug: z.string(), name: z.string(), role: ZRole })),
    }),
  },
  async ({ caller }) => ({
    user: caller.user,
    org: caller.org,
    role: caller.role,
    permissions: [...caller.permissions],
    via: caller.via,
    organizations: (await userMemberships(caller.user.id)).map((m) => ({ slug: m.org.slug, name: m.org.name, role: m.role })),
  }),
);
