// Enrolment request and answer, shared by the server route and the agent.
import { z } from 'zod';

export const ZEnrollRequest = z.strictObject({
  token: z.string().min(10).max(200),
  agentVersion: z.string().max(50).optional(),
});

export const ZEnrollResponse = z.object({
  host: z.string(),
  credential: z.string(),
  cache: z.object({ url: z.string(), publicKey: z.string() }),
});
