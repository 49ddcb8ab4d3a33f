import { route } from '@/lib/api/route';
import { setTrustedKeys, trustedKeys, ZTrustedKeys, ZTrustedKeysView } from '@/lib/cache/trusted-keys';

export const GET = route(
  { access: 'fleet.read', summary: 'The CI signing keys this organisation trusts for pushed closures (none: pushes are signed by the fleet key alone)', response: ZTrustedKeysView },
  async ({ caller }) => ({ keys: await trustedKeys(caller.org.id) }),
);

export const PUT = route(
  {
    access: 'settings.manage',
    summary: 'Set the trusted CI signing keys: once any is set, every narinfo pushed to the cache must carry a valid signature by one of them',
    body: ZTrustedKeys,
    response: ZTrustedKeysView,
  },
  async ({ caller, body }) => setTrustedKeys(caller, body.keys),
);
