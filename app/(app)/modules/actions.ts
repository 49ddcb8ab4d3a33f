'use server';

import { z } from 'zod';
import { action } from '@/lib/api/action';
import { ZTagList } from '@/lib/hosts/form-schemas';
import { createModule, retireModule, saveModule } from '@/lib/hosts/modules';
import { ZModuleName, ZModuleText } from '@/lib/hosts/schemas';

export const createModuleAction = action(
  {
    access: 'hosts.write',
    input: z.strictObject({ name: ZModuleName, tags: ZTagList.default([]), text: ZModuleText, message: z.string().trim().max(500).optional() }),
    revalidate: ['/modules'],
  },
  async ({ caller, input }) => createModule(caller, input),
);

export const saveModuleAction = action(
  {
    access: 'hosts.write',
    input: z.strictObject({
      module: z.string().min(1).max(63),
      text: ZModuleText.optional(),
      tags: ZTagList.optional(),
      baseVersion: z.coerce.number().int().min(1),
      message: z.string().trim().max(500).optional(),
    }),
    revalidate: ['/modules'],
  },
  async ({ caller, input }) => {
    const { module, ...change } = input;
    return saveModule(caller, module, change);
  },
);

export const retireModuleAction = action({ access: 'hosts.write', input: z.strictObject({ module: z.string().min(1).max(63) }), revalidate: ['/modules'] }, async ({ caller, input }) => {
  await retireModule(caller, input.module);
  return { name: input.module };
});
