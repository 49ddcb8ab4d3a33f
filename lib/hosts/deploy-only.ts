// Deploy-only hosts: Flotilla holds no config for them. Their systems are built
// elsewhere (CI), pushed into the cache and deployed with deploy.json; everything that
// starts from a config (saving one, building, a person's request) is refused with the
// way that does work.
import { AppError } from '@/lib/api/errors';
import type { Host } from '@/lib/db/schema';

export function assertConfigManaged(host: Pick<Host, 'name' | 'deployOnly'>, what: string) {
  if (!host.deployOnly) return;
  throw new AppError(
    'unprocessable',
    `${host.name} is deploy-only: its systems are built outside Flotilla (push them with \`flotilla push\`, then deploy with deploy.json), so there is no config here to ${what}`,
    { deployOnly: true },
  );
}
