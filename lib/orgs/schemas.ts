// Shapes for organisations and their members, shared by forms, REST API and tests.
import { z } from 'zod';
import { ZPassword } from '@/lib/auth/password-policy';
// The enum's values without drizzle (lib/db/enums.ts) keep this file free of server-only imports, so forms in the browser can share it.
import { ROLES } from '@/lib/db/enums';

export const ZRole = z.enum(ROLES);
export const ZEmail = z.email('Enter a valid e-mail address').max(320).transform((v) => v.toLowerCase());
export const ZPersonName = z.string().trim().min(1, 'Enter a name').max(200);

export const ZSetupInstance = z.strictObject({
  orgName: z.string().trim().min(1, 'Name your organisation').max(100),
  name: ZPersonName,
  email: ZEmail,
  password: ZPassword,
});
export type TSetupInstance = z.infer<typeof ZSetupInstance>;

export const ZCreateUser = z.strictObject({
  email: ZEmail,
  name: ZPersonName,
  role: ZRole,
  password: ZPassword.optional(),
});
export type TCreateUser = z.infer<typeof ZCreateUser>;

export const ZChangeRole = z.strictObject({ role: ZRole });

export const ZAcceptInvitation = z.strictObject({
  token: z.string().min(10).max(200),
  name: ZPersonName,
  password: ZPassword,
});
export type TAcceptInvitation = z.infer<typeof ZAcceptInvitation>;

export const ZMember = z.object({
  id: z.uuid(),
  email: z.string(),
  name: z.string(),
  role: ZRole,
  joinedAt: z.string(),
  disabled: z.boolean(),
});
export const ZPendingInvitation = z.object({
  id: z.uuid(),
  email: z.string(),
  name: z.string(),
  role: ZRole,
  expiresAt: z.string(),
});
export const ZCreatedUser = z.object({
  id: z.uuid(),
  invitation: z.object({ id: z.uuid(), url: z.string(), expiresAt: z.string() }).optional(),
});

export const ZOrgSettings = z.strictObject({
  name: z.string().trim().min(1, 'Enter a name').max(100),
});
