// Who is asking: a user acting in one organisation, through a browser session or an
// API token, with the permissions their role (narrowed by the token's scopes) grants.
import type { Role } from '@/lib/db/schema';
import type { Permission } from './permissions';

export type Caller = {
  user: { id: string; email: string; name: string };
  org: { id: string; slug: string; name: string };
  role: Role;
  permissions: Set<Permission>;
  /** 'policy': Flotilla acting for a person under a rule of the organisation (a pre-approved request). */
  via: 'session' | 'token' | 'password' | 'policy';
  /** Set when the caller is an API token: its tag limit and expiry bound every token it makes. */
  token?: { id: string; name: string; hostTags?: string[] | null; expiresAt?: Date | null };
  ip?: string;
};

export function can(caller: Caller, permission: Permission): boolean {
  return caller.permissions.has(permission);
}
