// Self-service requests (DESIGN.md §9): shapes shared by the API, the pages and the tests.
import { z } from 'zod';
import { REQUEST_STATUSES } from '@/lib/db/enums';
import { ZHostName } from '@/lib/hosts/schemas';

/** A nixpkgs attribute path as the package index lists it (e.g. `hello`, `python3Packages.requests`). */
export const ZPackageAttr = z.string().trim().min(1).max(200).regex(/^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/, 'Not a package attribute name');

const ZReason = z.string().trim().min(3, 'Say why you need it (a few words)').max(2000);

export const ZCreateRequest = z.discriminatedUnion('kind', [
  z.strictObject({ host: ZHostName, kind: z.literal('install'), package: ZPackageAttr, reason: ZReason }),
  z.strictObject({ host: ZHostName, kind: z.literal('remove'), package: ZPackageAttr, reason: ZReason }),
  z.strictObject({ host: ZHostName, kind: z.literal('change'), text: z.string().trim().min(3).max(4000), reason: ZReason }),
]);
export type TCreateRequest = z.infer<typeof ZCreateRequest>;

export const ZApprove = z.strictObject({
  comment: z.string().trim().max(2000).optional(),
  /** Edit then approve: another package than the one asked for (install/remove). */
  package: ZPackageAttr.optional(),
  /** Edit then approve a change in words: the host's new module text. */
  module: z.string().max(512 * 1024).optional(),
});
export type TApprove = z.infer<typeof ZApprove>;

export const ZDeny = z.strictObject({ comment: z.string().trim().min(1, 'Tell the requester why').max(2000) });
export const ZComment = z.strictObject({ body: z.string().trim().min(1).max(4000) });
export const ZBatchApprove = z.strictObject({ ids: z.array(z.uuid()).min(1).max(500), comment: z.string().trim().max(2000).optional() });

export const ZRequestListQuery = z.object({
  status: z.enum([...REQUEST_STATUSES, 'open', 'all']).default('all'),
  host: ZHostName.optional(),
  package: ZPackageAttr.optional(),
  mine: z.enum(['true', 'false']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export type TRequestListQuery = z.infer<typeof ZRequestListQuery>;

export const ZRequestComment = z.object({ id: z.uuid(), author: z.string().nullable(), body: z.string(), createdAt: z.string() });

export const ZRequestView = z.object({
  id: z.uuid(),
  host: z.string(),
  kind: z.enum(['install', 'remove', 'change']),
  package: z.string().nullable(),
  text: z.string().nullable(),
  reason: z.string(),
  status: z.enum(REQUEST_STATUSES),
  requester: z.object({ email: z.string(), name: z.string() }),
  reviewer: z.string().nullable(),
  decidedAt: z.string().nullable(),
  decisionComment: z.string().nullable(),
  autoApproved: z.boolean(),
  configVersion: z.number().int().nullable(),
  buildId: z.uuid().nullable(),
  deploymentId: z.uuid().nullable(),
  previewBuildId: z.uuid().nullable(),
  failure: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  comments: z.array(ZRequestComment),
});
export type TRequestView = z.infer<typeof ZRequestView>;

export const ZPolicy = z.strictObject({
  package: ZPackageAttr,
  rule: z.enum(['pre-approved', 'never-allowed']),
  reason: z.string().trim().max(500).default(''),
});
export type TPolicy = z.infer<typeof ZPolicy>;
export const ZPolicies = z.strictObject({ policies: z.array(ZPolicy).max(5000) });

export const ZRequestStats = z.object({
  open: z.number().int(),
  decided: z.number().int(),
  approved: z.number().int(),
  denied: z.number().int(),
  approvalRate: z.number().nullable(),
  medianSecondsToDecision: z.number().nullable(),
  medianSecondsToLive: z.number().nullable(),
  byStatus: z.record(z.string(), z.number()),
});
