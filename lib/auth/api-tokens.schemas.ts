// Shapes of API tokens shared by the REST API, the settings page and the CLI.
import { z } from 'zod';
import { ALL_PERMISSIONS, type Permission } from './permissions';

export const ZScope = z.enum(ALL_PERMISSIONS as [Permission, ...Permission[]]);

export const ZCreateToken = z.strictObject({
  name: z.string().trim().min(1, 'Give the token a name').max(100),
  scopes: z.array(ZScope).min(1, 'Pick at least one scope').max(ALL_PERMISSIONS.length),
  expiresInDays: z.coerce.number().int().min(1).max(3650).optional(),
  /** A deploy token for CI limited to hosts with one of these tags. */
  hostTags: z.array(z.string().trim().min(1).max(64)).min(1).max(50).optional(),
});
export type TCreateToken = z.infer<typeof ZCreateToken>;

export const ZTokenSummary = z.object({
  id: z.uuid(),
  name: z.string(),
  prefix: z.string(),
  scopes: z.array(z.string()),
  hostTags: z.array(z.string()).nullable(),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type TTokenSummary = z.infer<typeof ZTokenSummary>;

export const ZCreatedToken = z.object({ id: z.uuid(), token: z.string(), prefix: z.string(), expiresAt: z.string().nullable() });
