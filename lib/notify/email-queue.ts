// Queuing notification e-mail, for any process: no SMTP code here, so the web server's
// bundle never carries nodemailer (the worker's job is in ./email.ts).
import { z } from 'zod';
import { env, type TSmtp } from '@/lib/env';
import { sendJob } from '@/lib/jobs/queue';
import { jobSpec } from '@/lib/jobs/spec';

export const EMAIL_JOB = jobSpec({
  name: 'notification-email',
  version: 1,
  payload: z.object({ notificationId: z.uuid() }),
  // The sender applies this process's policy (configureEmail); the SMTP timeouts in ./email.ts end a hung attempt long before expiry.
  retry: { retryLimit: 4, retryDelay: 30, retryBackoff: true, expireInSeconds: 5 * 60 },
});

export type EmailPolicy = {
  /** Attempts in all, the first included. */
  attempts: number;
  /** pg-boss retryDelay: with backoff, retry n waits about delay·2ⁿ⁻¹…delay·2ⁿ seconds. */
  retryDelaySeconds: number;
  backoff: boolean;
};

// 5 attempts; with backoff the four waits are 0.5–1, 1–2, 2–4 and 4–8 minutes: a mail
// server that is restarting or greylisting us gets about a quarter of an hour.
const DEFAULT_POLICY: EmailPolicy = { attempts: 5, retryDelaySeconds: 30, backoff: true };
let policy: EmailPolicy = { ...DEFAULT_POLICY };

/** Changes the retry policy of this process (tests retry within a second). */
export function configureEmail(change: Partial<EmailPolicy> | 'defaults') {
  policy = change === 'defaults' ? { ...DEFAULT_POLICY } : { ...policy, ...change };
}

export function emailPolicy(): Readonly<EmailPolicy> {
  return policy;
}

/** The SMTP settings, or null when e-mail is off. */
export function smtpConfig(): TSmtp | null {
  return env().smtp;
}

/** Queues the e-mail of a notification; the job id is the notification id, so queuing twice is one job. */
export async function enqueueNotificationEmail(notificationId: string) {
  await sendJob(
    EMAIL_JOB,
    { notificationId },
    { id: notificationId, retry: { retryLimit: policy.attempts - 1, retryDelay: policy.retryDelaySeconds, retryBackoff: policy.backoff } },
  );
}
