import { route } from '@/lib/api/route';
import { rotateCacheKey, ZRotateKey, ZRotateKeyResult } from '@/lib/cache/key-rotation';

// Agents accept the new key because the old one signs the statement (docs/decisions/0017).
export const POST = route(
  {
    access: 'settings.manage',
    summary:
      "Rotate the organisation's cache signing key: new builds are signed with a new key, the cache's narinfos get its signature, and agents accept it through a statement signed by the old key (trusted for keepPreviousKeyHours more, 0 if it may be compromised)",
    body: ZRotateKey,
    response: ZRotateKeyResult,
    status: 201,
  },
  async ({ caller, body }) => rotateCacheKey(caller, body),
);
