// The `notification-email` job: one e-mail for one notification row, over SMTP with
// nodemailer. pg-boss does the waiting between attempts; the row's emailed_at says it
// went out, so a repeated job sends nothing. Only the worker loads this file (and
// nodemailer); web processes queue through ./email-queue.ts.
import { and, eq, isNull } from 'drizzle-orm';
import nodemailer, { type Transporter } from 'nodemailer';
import { db } from '@/lib/db/client';
import { memberships, notifications, organizations, users } from '@/lib/db/schema';
import { env, type TSmtp } from '@/lib/env';
import { emailPolicy, smtpConfig } from './email-queue';
import { renderNotificationEmail } from './email-render';

const globalForMail = globalThis as unknown as { flotillaMail?: { url: string; transport: Transporter } };

/** One transport per process (and per URL, so a test that changes it gets a new one). */
function transport(smtp: TSmtp): Transporter {
  const cached = globalForMail.flotillaMail;
  if (cached?.url === smtp.url) return cached.transport;
  cached?.transport.close();
  // nodemailer's defaults wait minutes for a silent server; a job should give up sooner
  // and let pg-boss retry. Its logger stays off: it would print the AUTH exchange.
  const created = nodemailer.createTransport({ url: smtp.url, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 });
  globalForMail.flotillaMail = { url: smtp.url, transport: created };
  return created;
}

/** Thrown to make pg-boss retry; the message carries no address, URL or password. */
export class EmailRetry extends Error {}

export type EmailOutcome = 'sent' | 'skipped' | 'failed';

export async function sendNotificationEmail(notificationId: string): Promise<EmailOutcome> {
  const smtp = smtpConfig();
  // E-mail was turned off after the job was queued.
  if (!smtp) return 'skipped';
  const [row] = await db()
    .select({
      notification: notifications,
      email: users.email,
      name: users.name,
      disabledAt: users.disabledAt,
      orgName: organizations.name,
      member: memberships.userId,
    })
    .from(notifications)
    .innerJoin(users, eq(users.id, notifications.userId))
    .innerJoin(organizations, eq(organizations.id, notifications.orgId))
    .leftJoin(memberships, and(eq(memberships.orgId, notifications.orgId), eq(memberships.userId, notifications.userId)))
    .where(eq(notifications.id, notificationId));
  // Gone (the user or organisation was deleted) or already sent (a repeated job).
  if (!row || row.notification.emailedAt) return 'skipped';
  // Left the organisation or was disabled since: the in-app row stays, the e-mail does not go.
  if (!row.member || row.disabledAt) return 'skipped';
  // Where a person's "no e-mail" choice will be honoured, once it has a column (see decision 0013).

  const message = renderNotificationEmail({
    title: row.notification.title,
    body: row.notification.body,
    link: `${env().publicUrl}${row.notification.url ?? '/notifications'}`,
    orgName: row.orgName,
  });
  try {
    await transport(smtp).sendMail({
      from: smtp.from,
      to: { name: row.name, address: row.email },
      subject: message.subject,
      text: message.text,
      html: message.html,
      // RFC 3834: vacation responders and ticket systems should not answer a notification.
      headers: { 'auto-submitted': 'auto-generated', 'x-flotilla-notification': row.notification.kind },
    });
  } catch (error) {
    const { problem, permanent } = describeSmtpError(error);
    // The server's host only: the URL's user and password stay out of logs.
    const where = safeHost(smtp.url);
    if (permanent) {
      console.error(`[email] notification ${notificationId} via ${where}: ${problem}; not retrying`);
      return 'failed';
    }
    console.warn(`[email] notification ${notificationId} via ${where}: ${problem}; pg-boss makes up to ${emailPolicy().attempts} attempts`);
    throw new EmailRetry(`notification e-mail ${notificationId}: ${problem}`);
  }
  await db()
    .update(notifications)
    .set({ emailedAt: new Date() })
    .where(and(eq(notifications.id, notificationId), isNull(notifications.emailedAt)));
  return 'sent';
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(the SMTP server)';
  }
}

/**
 * A 5xx answer to the message itself (mailbox unknown, message refused) will be the same
 * next time: fail once. Connection problems, 4xx and authentication (often a server
 * restarting or a password being rotated) are worth the retries.
 */
function describeSmtpError(error: unknown): { problem: string; permanent: boolean } {
  const e = error as { code?: unknown; responseCode?: unknown; command?: unknown; message?: unknown };
  const responseCode = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const message = typeof e.message === 'string' ? e.message : String(error);
  const problem = [code, responseCode, message.replace(/\s+/g, ' ').slice(0, 300)].filter(Boolean).join(' ');
  const permanent = responseCode !== undefined && responseCode >= 500 && code !== 'EAUTH';
  return { problem, permanent };
}
