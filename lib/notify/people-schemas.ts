// Shapes of notifications for people, shared by notifyPeople, the e-mail job, the REST
// API and the bell (which imports only types and the list schema from here).
import { z } from 'zod';

/**
 * A path inside Flotilla. Absolute URLs and `//host` (protocol-relative) are refused:
 * the bell and the e-mail put this behind a link, and it must never lead elsewhere.
 */
export const ZNoticePath = z
  .string()
  .max(2000)
  .regex(/^\/(?![/\\])[^\s\\]*$/, 'must be a path inside Flotilla, starting with one /');

function clip(text: string, max: number) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export const ZPersonNotice = z.object({
  kind: z
    .string()
    .max(64)
    .regex(/^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*$/, 'must look like request.approved'),
  key: z.string().min(1).max(200),
  // One line: it is the e-mail subject and the bell's text. Titles are made from names
  // (hosts, packages), so an overlong one is shortened rather than refused after the
  // caller's change has committed.
  title: z
    .string()
    .transform((t) => clip(t.replace(/\s+/g, ' ').trim(), 200))
    .pipe(z.string().min(1, 'must not be empty')),
  body: z
    .string()
    .transform((b) => clip(b.trim(), 4000))
    .optional(),
  url: ZNoticePath.optional(),
});

export const ZNotification = z.object({
  id: z.uuid(),
  kind: z.string(),
  title: z.string(),
  body: z.string(),
  url: z.string().nullable(),
  createdAt: z.string(),
  readAt: z.string().nullable(),
});
export type TNotification = z.infer<typeof ZNotification>;

/** What the list route answers and the bell's stream sends: the newest items and the unread count. */
export const ZNotificationList = z.object({
  unread: z.number().int().min(0),
  notifications: z.array(ZNotification),
});
export type TNotificationList = z.infer<typeof ZNotificationList>;

/** `ids` absent marks every unread notification of the caller read. */
export const ZMarkRead = z.strictObject({
  ids: z.array(z.uuid()).min(1).max(500).optional(),
});
