import { route } from '@/lib/api/route';
import { listSavedFilters, saveFilter, ZSaveFilter } from '@/lib/hosts/saved-filters';

export const GET = route({ access: 'fleet.read', summary: 'Your saved host-list filters' }, async ({ caller }) => ({ filters: await listSavedFilters(caller) }));

export const POST = route({ access: 'fleet.read', summary: 'Save the host list filters under a name', body: ZSaveFilter, status: 201 }, async ({ caller, body }) => saveFilter(caller, body));
