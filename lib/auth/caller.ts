// Who is asking: a user acting in one organisation, through a browser session or an
// API token, with the permissions their role (narrowed by the token's scopes) grants.
import type { Role } from '@/lib/db/schema';
import type { Permission } from './permissions';

export type Caller = {
  user: { id: string; email: string; name: string };
  org: { id: string; slug: string; name: string };
  role: Role;
  permissions: Set<Permission>;
  via: 'session' | 'token' | 'password';
  token?: { id: string; name: string; hostTags?: string[] | null };
  ip?: string;
};

export function can(caller: Caller, permission: Permission): boolean {
  return caller.permissions.has(permission);
}
