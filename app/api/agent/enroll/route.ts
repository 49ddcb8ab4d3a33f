import { route } from '@/lib/api/route';
import { clientIp, refuseSecret } from '@/lib/auth/request-caller';
import { AppError } from '@/lib/api/errors';
import { enrollHost } from '@/lib/agents/credentials';
import { ZEnrollRequest, ZEnrollResponse } from '@/lib/agents/protocol';

// Public: the one-time enroll token in the body is the credential. A valid token is
// always accepted; failures count against the client address like any wrong secret.
export const POST = route(
  { access: 'public', summary: 'Trade a one-time enroll token for a host credential (flotilla-agent enroll)', body: ZEnrollRequest, response: ZEnrollResponse },
  async ({ req, body }) => {
    const ip = clientIp(req);
    try {
      return await enrollHost(body, ip);
    } catch (error) {
      throw error instanceof AppError && error.code === 'unauthorized' ? await refuseSecret(error, ip, 'an enroll token') : error;
    }
  },
);
