'use server';

import { z } from 'zod';
import { action } from '@/lib/api/action';
import { cancelDeployment, pauseDeployment, resumeDeployment, rollbackDeployment } from '@/lib/deployments/control';
import { createDeployment, previewDeployment } from '@/lib/deployments/create';
import { ZCreateDeployment } from '@/lib/deployments/schemas';

/** The start dialog: hosts built now or from their newest build, or one host's given build (deploy.json's shape), with a strategy. */
export const startDeploymentAction = action({ access: 'deployments.write', input: ZCreateDeployment, revalidate: ['/deployments'] }, async ({ caller, input }) => {
  const created = await createDeployment(caller, input, 'ui');
  return { id: created.id };
});

/** What the start dialog would do: the strategy in force (the organisation's defaults under the fields) and each wave's hosts. */
export const previewDeploymentAction = action({ access: 'deployments.write', input: ZCreateDeployment }, async ({ caller, input }) => previewDeployment(caller, input));

const ZDeploymentId = z.strictObject({ id: z.uuid() });
const revalidate = ['/deployments'];

export const pauseDeploymentAction = action({ access: 'deployments.write', input: ZDeploymentId, revalidate }, async ({ caller, input }) => pauseDeployment(caller, input.id));

export const resumeDeploymentAction = action({ access: 'deployments.write', input: ZDeploymentId, revalidate }, async ({ caller, input }) => resumeDeployment(caller, input.id));

export const cancelDeploymentAction = action({ access: 'deployments.write', input: ZDeploymentId, revalidate }, async ({ caller, input }) => cancelDeployment(caller, input.id));

/** Answers the new deployment's id, which the page then shows. */
export const rollbackDeploymentAction = action({ access: 'deployments.write', input: ZDeploymentId, revalidate }, async ({ caller, input }) => {
  const created = await rollbackDeployment(caller, input.id);
  return { id: created.id };
});
