// The rough edges found following the README on a clean clone (issue 16, part 3, item 8):
// the config editor wraps long lines instead of scrolling sideways, the history's compare
// radios have visible column names, a new member starts with the least privilege, a
// requester's navigation and settings show only what they can use, request titles end on
// a whole word, unknown addresses get the app's own 404 page, and the app has an icon.
import { expect, test, type Browser } from '@playwright/test';
import { ADMIN } from './constants';
import { createToken, signInViaApi, unique } from './helpers';

const SHOTS = 'test-results/screens';

async function signedIn(browser: Browser, who: { email: string; password: string }) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await signInViaApi(context, who.email, who.password);
  return { context, page: await context.newPage() };
}

const text = 'Please configure the printer on the second floor so that duplex printing works by default for everyone';
const requester = { email: `${unique('req')}@e2e.example.com`, password: 'requester-password-polish', name: 'Rita Requester', role: 'requester' };
const host = unique('polish');

test.beforeAll(async ({ browser, request }) => {
  const token = await createToken(request, ADMIN, ['users.manage', 'hosts.write', 'fleet.read']);
  const headers = { authorization: `Bearer ${token}` };
  expect((await request.post('/api/v1/users', { headers, data: requester })).status()).toBe(201);
  expect((await request.post('/api/v1/hosts', { headers, data: { name: host, assignees: [requester.email] } })).status()).toBe(201);
  const saved = await request.put(`/api/v1/hosts/${host}/config`, { headers, data: { module: '{ pkgs, ... }:\n{\n  networking.firewall.enable = true;\n}\n', baseVersion: 1, message: 'firewall' } });
  expect(saved.status(), await saved.text()).toBe(200);
  const { context } = await signedIn(browser, requester);
  const submitted = await context.request.post('/api/v1/requests', { data: { host, kind: 'change', text, reason: 'We print a lot' } });
  expect(submitted.status(), await submitted.text()).toBe(201);
  await context.close();
});

test('the config editor wraps a long line: nothing scrolls sideways after the edit', async ({ browser }) => {
  const { context, page } = await signedIn(browser, ADMIN);
  await page.goto(`/hosts/${host}/config`);
  const editor = page.getByTestId('nix-editor');
  await expect(editor.locator('.cm-content')).toContainText('networking.firewall.enable');
  await editor.locator('.cm-content').click();
  await page.keyboard.press('Control+End');
  const line = '# a comment long enough to run well past the right edge of the editor box, as real option descriptions do';
  await page.keyboard.type(line);
  await expect(editor.locator('.cm-content')).toContainText(line);
  const scroller = editor.locator('.cm-scroller');
  const { scrollLeft, scrollWidth, clientWidth } = await scroller.evaluate((e) => ({ scrollLeft: e.scrollLeft, scrollWidth: e.scrollWidth, clientWidth: e.clientWidth }));
  expect(scrollLeft).toBe(0);
  expect(scrollWidth).toBeLessThanOrEqual(clientWidth);
  // The end of the line just typed is inside the box, not clipped by it.
  const box = (await editor.boundingBox())!;
  const cursor = (await editor.locator('.cm-cursor').first().boundingBox())!;
  expect(cursor.x).toBeLessThan(box.x + box.width);
  await page.screenshot({ path: `${SHOTS}/polish-editor-wrapped.png`, fullPage: true });
  await context.close();
});

test('the history names its compare columns From and To', async ({ browser }) => {
  const { context, page } = await signedIn(browser, ADMIN);
  await page.goto(`/hosts/${host}/history`);
  await expect(page.getByRole('columnheader', { name: 'From', exact: true })).toBeVisible();
  await expect(page.getByRole('columnheader', { name: 'To', exact: true })).toBeVisible();
  await expect(page.getByRole('radio', { name: 'Compare from version 1' })).toBeChecked();
  await expect(page.getByRole('radio', { name: 'Compare to version 2' })).toBeChecked();
  await page.screenshot({ path: `${SHOTS}/polish-history.png`, fullPage: true });
  await context.close();
});

test('Add member starts with the least privilege', async ({ browser }) => {
  const { context, page } = await signedIn(browser, ADMIN);
  await page.goto('/settings/users');
  await expect(page.locator('#invite-role')).toHaveValue('requester');
  await context.close();
});

test('an unknown address gets the app’s 404 page, and the app has an icon', async ({ browser }) => {
  const { context, page } = await signedIn(browser, ADMIN);
  const res = await page.goto('/no-such-page-here');
  expect(res?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Nothing here' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Back to Flotilla' })).toHaveAttribute('href', '/');
  await page.screenshot({ path: `${SHOTS}/polish-404.png`, fullPage: true });
  const href = await page.locator('head link[rel="icon"]').first().getAttribute('href', { timeout: 5_000 });
  expect(href).toMatch(/^\/icon\.svg/);
  const served = await context.request.get(href as string);
  expect(served.status()).toBe(200);
  expect(served.headers()['content-type']).toContain('image/svg+xml');
  await context.close();
});

test('a requester’s navigation says My machines and offers no fleet settings', async ({ browser }) => {
  const { context, page } = await signedIn(browser, requester);
  await page.goto('/');
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav.getByRole('link', { name: 'My machines' })).toHaveAttribute('href', '/');
  await expect(nav.getByRole('link', { name: 'Overview' })).toHaveCount(0);
  await page.screenshot({ path: `${SHOTS}/polish-requester-home.png`, fullPage: true });
  await page.goto('/settings');
  await expect(page.getByRole('heading', { name: 'Your password' })).toBeVisible();
  for (const title of ['Fleet', 'Cache retention', 'Rollout defaults']) await expect(page.getByRole('heading', { name: title, exact: true })).toHaveCount(0);
  await page.screenshot({ path: `${SHOTS}/polish-requester-settings.png`, fullPage: true });
  await context.close();
});

test('a long request’s title ends on a whole word', async ({ browser }) => {
  const { context, page } = await signedIn(browser, requester);
  await page.goto('/requests');
  const title = page.getByRole('link', { name: /^Change: Please configure/ });
  await expect(title).toBeVisible();
  const shown = (await title.innerText()).trim();
  expect(shown).toMatch(/…$/);
  const kept = shown.replace(/^Change: /, '').replace(/…$/, '');
  expect(text.startsWith(kept)).toBe(true);
  // The next character of the request is a space: the cut fell between two words.
  expect(text[kept.length]).toBe(' ');
  await context.close();
});
