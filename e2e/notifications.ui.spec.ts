import { spawn } from 'node:child_process';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { ADMIN } from './constants';
import { signInViaApi, unique } from './helpers';

const root = path.resolve(import.meta.dirname, '..');

/** notifyPeople for one person, in the server's database (see e2e/notify-person.ts). */
async function notify(me: { userId: string; orgId: string }, notice: { kind: string; key: string; title: string; url?: string }) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'e2e/notify-person.ts', JSON.stringify({ ...me, notice })], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  expect(code, output).toBe(0);
}

/** The answer to the next POST /api/v1/notifications/read the page sends. */
const readPosted = (page: Page) => page.waitForResponse((r) => r.url().endsWith('/api/v1/notifications/read') && r.request().method() === 'POST');

/** The bell on screen (the shell has one for wide and one for narrow windows). */
const bell = (page: Page) => page.getByTestId('notification-bell').filter({ visible: true });

test('a notification appears under the bell without a reload; opening it and "Mark all read" clear the count', async ({ page }) => {
  await signInViaApi(page.context(), ADMIN.email, ADMIN.password);
  const me = (await (await page.request.get('/api/v1/me')).json()) as { user: { id: string }; org: { id: string } };
  const person = { userId: me.user.id, orgId: me.org.id };
  // Start from nothing unread, whatever ran before.
  expect((await page.request.post('/api/v1/notifications/read', { data: {} })).status()).toBe(200);

  await page.goto('/');
  await expect(bell(page).getByRole('button', { name: 'Notifications', exact: true })).toBeVisible();
  await expect(bell(page).getByTestId('notification-count')).toHaveCount(0);

  const request = unique('req');
  const first = `hello is live on ${unique('laptop')}`;
  const second = `${unique('htop')} was approved`;
  await notify(person, { kind: 'request.live', key: `${request}:live`, title: first, url: '/notifications' });
  // No reload: the bell follows its event stream.
  await expect(bell(page).getByTestId('notification-count')).toHaveText('1');
  await notify(person, { kind: 'request.approved', key: `${request}:approved`, title: second, url: '/notifications' });
  await expect(bell(page).getByTestId('notification-count')).toHaveText('2');
  // The same key again notifies nobody.
  await notify(person, { kind: 'request.live', key: `${request}:live`, title: `${first} (again)` });

  await bell(page).getByRole('button', { name: 'Notifications, 2 unread' }).click();
  const panel = page.getByRole('dialog', { name: 'Notifications' });
  const items = panel.getByTestId('notification-item');
  await expect(items.first()).toContainText(second);
  await expect(items.nth(1)).toContainText(first);
  await expect(items.first()).toContainText('just now');
  await expect(panel).not.toContainText('(again)');
  await page.screenshot({ path: 'test-results/screens/notifications-bell.png' });

  // Opening one marks it read and follows its link.
  const openedRead = readPosted(page);
  await items.filter({ hasText: first }).click();
  await expect(page).toHaveURL(/\/notifications$/);
  await expect(bell(page).getByTestId('notification-count')).toHaveText('1');
  expect(await (await openedRead).json()).toEqual({ marked: 1 });

  await bell(page).getByRole('button', { name: 'Notifications, 1 unread' }).click();
  const marked = readPosted(page);
  await panel.getByRole('button', { name: 'Mark all read' }).click();
  // The bell clears at once; the server's answer follows.
  await expect(bell(page).getByTestId('notification-count')).toHaveCount(0);
  await expect(panel.getByRole('button', { name: 'Mark all read' })).toBeDisabled();
  expect(await (await marked).json()).toEqual({ marked: 1 });

  // The server agrees: after a reload nothing is unread, and the page lists both as read.
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Notifications' })).toBeVisible();
  await expect(page.getByTestId('notifications-unread')).toHaveText('All read');
  const rows = page.getByTestId('notification-row');
  await expect(rows.filter({ hasText: second })).not.toHaveAttribute('data-unread', 'true');
  await expect(rows.filter({ hasText: first })).not.toHaveAttribute('data-unread', 'true');
  await expect(bell(page).getByTestId('notification-count')).toHaveCount(0);
  await page.screenshot({ path: 'test-results/screens/notifications-page.png', fullPage: true });
});
