import { z } from 'zod';
import { route } from '@/lib/api/route';
import { getConfig, saveConfig } from '@/lib/hosts/configs';
import { ZConfigVersion, ZSaveConfig } from '@/lib/hosts/schemas';

const params = z.object({ name: z.string().max(63) });

export const GET = route(
  { access: 'authenticated', summary: "A host's config (latest, or ?version=N)", params, host: 'name', query: z.object({ version: z.coerce.number().int().min(1).optional() }), response: ZConfigVersion },
  async ({ host, query }) => getConfig(host, query.version),
);

export const PUT = route(
  {
    access: 'hosts.write',
    summary: 'Save a new config version; 409 on a stale baseVersion, 422 {line, column} on a Nix syntax error',
    params,
    host: 'name',
    body: ZSaveConfig,
    response: z.object({ version: z.number(), changed: z.boolean() }),
  },
  async ({ caller, host, body }) => saveConfig(caller, host, body),
);
