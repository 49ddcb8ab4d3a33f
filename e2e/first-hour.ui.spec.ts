// Stumbles of the first hour that the walkthrough does not take (see readme-walkthrough.ui.spec.ts).
import { expect, test } from '@playwright/test';
import { ADMIN } from './constants';
import { signInViaApi, unique } from './helpers';

test('a refused new host keeps what was typed, and a host name that passes adds the host', async ({ page }) => {
  await signInViaApi(page.context(), ADMIN.email, ADMIN.password);
  await page.goto('/hosts/new');
  await page.getByLabel('Name', { exact: true }).fill('Web_01');
  await page.getByLabel('Tags').fill('web, prod');
  await page.getByRole('button', { name: 'Add host' }).click();
  await expect(page.getByText('Use 1–63 lowercase letters, digits and hyphens')).toBeVisible();
  await expect(page.getByLabel('Name', { exact: true })).toHaveValue('Web_01');
  await expect(page.getByLabel('Tags')).toHaveValue('web, prod');
  await page.screenshot({ path: 'test-results/screens/new-host-refused.png', fullPage: true });

  // Corrected in place, nothing typed again.
  const host = unique('typed');
  await page.getByLabel('Name', { exact: true }).fill(host);
  await page.getByRole('button', { name: 'Add host' }).click();
  await expect(page.getByTestId('enroll-token')).toHaveValue(/^enr_/);
  await page.goto(`/hosts/${host}`);
  await expect(page.getByLabel('Tags')).toHaveValue('web, prod');

  // A new token from the host page comes with the same commands, for this host's own state directory.
  await page.getByRole('button', { name: 'Issue a new token' }).click();
  await expect(page.getByTestId('simulate-commands')).toContainText(`simulated-hosts/${host} --store-root `);
  await expect(page.getByRole('button', { name: 'Copy enroll command' })).toBeVisible();
  await page.screenshot({ path: 'test-results/screens/host-enroll-token.png', fullPage: true });
});

test('the enroll command box wraps instead of cutting the token off', async ({ page }) => {
  await signInViaApi(page.context(), ADMIN.email, ADMIN.password);
  await page.setViewportSize({ width: 900, height: 900 });
  await page.goto('/hosts/new');
  await page.getByLabel('Name', { exact: true }).fill(unique('wrap'));
  await page.getByRole('button', { name: 'Add host' }).click();
  const token = await page.getByTestId('enroll-token').inputValue();
  for (const box of [page.getByTestId('enroll-command'), page.getByTestId('simulate-commands')]) {
    await expect(box).toContainText(token);
    // Everything inside the box is visible: no horizontal scrolling hides the end of the token.
    expect(await box.evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
  }
});
