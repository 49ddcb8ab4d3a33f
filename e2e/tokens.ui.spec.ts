import { expect, test } from '@playwright/test';
import { ADMIN } from './constants';
import { signInViaApi, unique } from './helpers';

test('an API token made in the UI works, and stops working once revoked', async ({ page, playwright, baseURL }) => {
  await signInViaApi(page.context(), ADMIN.email, ADMIN.password);
  await page.goto('/settings/tokens');
  const name = unique('ci');
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('users.read').check();
  await page.getByRole('button', { name: 'Create token' }).click();
  const token = await page.getByTestId('new-token').inputValue();
  expect(token).toMatch(/^flt_/);
  // Shown once, so it has a Copy button that puts exactly it on the clipboard.
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.getByRole('button', { name: 'Copy token' }).click();
  await expect(page.getByRole('button', { name: 'Copy token' })).toContainText('Copied');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);
  await expect(page.getByTestId(`token-${name}`)).toContainText('active');

  // A client with no cookies at all: only the token speaks for it.
  const api = await playwright.request.newContext({ baseURL });
  const headers = { authorization: `Bearer ${token}` };
  const ok = await api.get('/api/v1/users', { headers });
  expect(ok.status()).toBe(200);
  const forbidden = await api.post('/api/v1/users', { headers, data: { email: 'x@e2e.example.com', name: 'X', role: 'viewer' } });
  expect(forbidden.status()).toBe(403);

  page.once('dialog', (dialog) => dialog.accept());
  await page.getByTestId(`token-${name}`).getByRole('button', { name: 'Revoke' }).click();
  await expect(page.getByTestId(`token-${name}`)).toContainText('revoked');
  const revoked = await api.get('/api/v1/users', { headers });
  expect(revoked.status()).toBe(401);
  expect(((await revoked.json()) as { error: { message: string } }).error.message).toMatch(/revoked/);
  await page.screenshot({ path: 'test-results/screens/tokens.png', fullPage: true });
  await api.dispose();
});

test('the audit log shows what happened, with filters', async ({ page }) => {
  await signInViaApi(page.context(), ADMIN.email, ADMIN.password);
  await page.goto('/audit?action=instance.');
  await expect(page.getByRole('cell', { name: 'instance.setup' })).toBeVisible();
  await page.getByLabel('Action').fill('token.');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/action=token\./);
  await expect(page.getByRole('cell', { name: 'instance.setup' })).toHaveCount(0);
  await page.screenshot({ path: 'test-results/screens/audit.png', fullPage: true });
});
