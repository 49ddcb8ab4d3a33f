import { z } from 'zod';
import { route } from '@/lib/api/route';
import { myMachines } from '@/lib/requests/queries';

const ZPackage = z.object({ attr: z.string(), pname: z.string(), version: z.string(), description: z.string() });

export const GET = route(
  {
    access: 'requests.create',
    summary: 'The hosts assigned to you: online or not, up to date or not, the packages their current system has and those their config installs',
    response: z.object({
      machines: z.array(
        z.object({
          name: z.string(),
          presence: z.string(),
          state: z.enum(['up-to-date', 'update-pending', 'needs-reboot', 'not-deployed']),
          lastSeen: z.string().nullable(),
          currentSystem: z.string().nullable(),
          packages: z.array(ZPackage).nullable(),
          /** Packages Flotilla's config installs (those a removal request may name). */
          removable: z.array(z.string()),
          /** Built outside Flotilla (by CI): requests for it are refused; ask IT. */
          deployOnly: z.boolean(),
        }),
      ),
    }),
  },
  async ({ caller }) => ({ machines: await myMachines(caller) }),
);
