'use server';

// The pages' side of the request engine (lib/requests): the same operations as the
// /api/v1/requests routes, guarded the same way. Decisions return the request as it now
// is, so the page shows the outcome at once without waiting for its event stream.
import { z } from 'zod';
import { action } from '@/lib/api/action';
import { getRequest } from '@/lib/requests/queries';
import { APPROVE_ACCESS, approveMany, approveRequest, commentOnRequest, denyRequest, PREVIEW_ACCESS, previewRequest, withdrawRequest } from '@/lib/requests/review';
import { ZApprove, ZBatchApprove, ZComment, ZCreateRequest, ZDeny } from '@/lib/requests/schemas';
import { submitRequest } from '@/lib/requests/submit';

const ZRef = z.strictObject({ id: z.uuid() });
const LISTS = ['/requests', '/my-machines', '/'];

export const createRequestAction = action({ access: 'requests.create', input: ZCreateRequest, revalidate: LISTS }, async ({ caller, input }) => submitRequest(caller, input));

export const previewRequestAction = action({ access: PREVIEW_ACCESS, input: ZRef }, async ({ caller, input }) => previewRequest(caller, input.id));

export const approveRequestAction = action({ access: APPROVE_ACCESS, input: ZApprove.extend(ZRef.shape), revalidate: LISTS }, async ({ caller, input }) => {
  const { id, ...decision } = input;
  await approveRequest(caller, id, decision);
  return getRequest(caller, id);
});

export const denyRequestAction = action({ access: 'requests.review', input: ZDeny.extend(ZRef.shape), revalidate: LISTS }, async ({ caller, input }) => {
  await denyRequest(caller, input.id, input.comment);
  return getRequest(caller, input.id);
});

// Requesters, reviewers and viewers reach the thread; the engine decides who may write in it.
export const commentOnRequestAction = action({ access: 'authenticated', input: ZComment.extend(ZRef.shape) }, async ({ caller, input }) => {
  await commentOnRequest(caller, input.id, input.body);
  return getRequest(caller, input.id);
});

export const withdrawRequestAction = action({ access: 'requests.create', input: ZRef, revalidate: LISTS }, async ({ caller, input }) => {
  await withdrawRequest(caller, input.id);
  return getRequest(caller, input.id);
});

export const approveManyAction = action({ access: APPROVE_ACCESS, input: ZBatchApprove, revalidate: LISTS }, async ({ caller, input }) => approveMany(caller, input.ids, input.comment));
