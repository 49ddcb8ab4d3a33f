'use server';

import { action } from '@/lib/api/action';
import { setPolicies } from '@/lib/requests/policy';
import { ZPolicies } from '@/lib/requests/schemas';

export const savePoliciesAction = action({ access: 'settings.manage', input: ZPolicies, revalidate: ['/settings/policies'] }, async ({ caller, input }) => setPolicies(caller, input.policies));
