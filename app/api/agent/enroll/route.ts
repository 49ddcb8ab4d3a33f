import { route } from '@/lib/api/route';
import { isLimited, noteFailure } from '@/lib/auth/failure-limiter';
import { clientIp } from '@/lib/auth/request-caller';
import { AppError } from '@/lib/api/errors';
import { enrollHost } from '@/lib/agents/credentials';
import { ZEnrollRequest, ZEnrollResponse } from '@/lib/agents/credentials.schemas';

// Public: the one-time enroll token in the body is the credential.
export const POST = route(
  { access: 'public', summary: 'Trade a one-time enroll token for a host credential (flotilla-agent enroll)', body: ZEnrollRequest, response: ZEnrollResponse },
  async ({ req, body }) => {
    const key = `enroll:${clientIp(req) ?? 'unknown'}`;
    if (isLimited(key)) throw new AppError('rate_limited', 'Too many failed enrolments; try again later');
    try {
      return await enrollHost(body, clientIp(req));
    } catch (error) {
      if (error instanceof AppError && error.code === 'unauthorized') noteFailure(key);
      throw error;
    }
  },
);
