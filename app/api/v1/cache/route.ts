import { z } from 'zod';
import { route } from '@/lib/api/route';
import { ensureCacheKey } from '@/lib/cache/keys';
import { env } from '@/lib/env';

export const GET = route(
  { access: 'authenticated', summary: "The binary cache's URL and public key (for nix.settings.trusted-public-keys)", response: z.object({ url: z.string(), publicKey: z.string() }) },
  async ({ caller }) => ({ url: `${env().publicUrl}/cache`, publicKey: (await ensureCacheKey(caller.org.id)).publicKey }),
);
