'use server';

import { z } from 'zod';
import { action } from '@/lib/api/action';
import { createDeployment } from '@/lib/deployments/create';
import { ZStorePath } from '@/lib/deployments/schemas';
import { ZHostName } from '@/lib/hosts/schemas';

export const deployAction = action(
  { access: 'deployments.write', input: z.strictObject({ host: ZHostName, storePath: ZStorePath }), revalidate: ['/deployments'] },
  async ({ caller, input }) => {
    const created = await createDeployment(caller, { agents: { [input.host]: input.storePath } }, 'ui');
    return { id: created.id };
  },
);
