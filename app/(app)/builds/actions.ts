'use server';

import { z } from 'zod';
import { action } from '@/lib/api/action';
import { requestBuild } from '@/lib/builds/request-build';

export const requestBuildAction = action({ access: 'builds.run', input: z.strictObject({ host: z.string().min(1).max(63) }), host: 'host', revalidate: ['/builds'] }, async ({ caller, host }) =>
  requestBuild(caller, host),
);
