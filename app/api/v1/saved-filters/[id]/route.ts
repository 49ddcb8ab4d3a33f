import { z } from 'zod';
import { route } from '@/lib/api/route';
import { deleteFilter } from '@/lib/hosts/saved-filters';

export const DELETE = route({ access: 'fleet.read', summary: 'Delete one of your saved filters', params: z.object({ id: z.uuid() }) }, async ({ caller, params }) => deleteFilter(caller, params.id));
