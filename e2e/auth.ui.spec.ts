import { expect, test } from '@playwright/test';
import { ADMIN } from './constants';
import { signInViaApi, unique } from './helpers';

test('a wrong password shows an error and signs nobody in', async ({ page }) => {
  await page.goto('/login');
  await page.getByLabel('E-mail').fill(ADMIN.email);
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Wrong e-mail or password.' })).toBeVisible();
  await expect(page).toHaveURL(/\/login/);
  await page.goto('/');
  await expect(page).toHaveURL(/\/login/);
});

test('the admin signs in with the form and adds an operator, who cannot see the members page', async ({ page, browser }) => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/login/);
  await page.getByLabel('E-mail').fill(ADMIN.email);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Fleet overview' })).toBeVisible();
  await expect(page.getByTestId('current-user')).toHaveText('Administrator');

  await page.getByRole('link', { name: 'Members' }).first().click();
  await expect(page).toHaveURL(/\/settings\/users/);
  const email = `${unique('op')}@e2e.example.com`;
  await page.getByLabel('Name').fill('Olga Operator');
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Role', { exact: true }).first().selectOption('operator');
  await page.getByLabel('Password (optional)').fill('operator-password-1');
  await page.getByRole('button', { name: 'Add member' }).click();
  await expect(page.getByText('Member added.')).toBeVisible();
  await expect(page.getByTestId(`member-${email}`)).toContainText('Olga Operator');
  await page.screenshot({ path: 'test-results/screens/members.png', fullPage: true });

  const operator = await browser.newContext();
  await signInViaApi(operator, email, 'operator-password-1');
  const opPage = await operator.newPage();
  await opPage.goto('/');
  await expect(opPage.getByRole('heading', { name: 'Fleet overview' })).toBeVisible();
  await expect(opPage.getByTestId('current-user')).toHaveText('Olga Operator');
  await expect(opPage.getByRole('link', { name: 'Members' })).toHaveCount(0);
  await expect(opPage.getByRole('link', { name: 'Audit log' })).toHaveCount(0);
  await opPage.goto('/settings/users');
  await expect(opPage.getByText("You don't have access to this page")).toBeVisible();
  await expect(opPage.getByText(ADMIN.email)).toHaveCount(0);
  const api = await operator.request.get('/api/v1/users');
  expect(api.status()).toBe(403);
  await operator.close();
});

test('an invited member sets a password through the link and signs in', async ({ page, browser }) => {
  await signInViaApi(page.context(), ADMIN.email, ADMIN.password);
  await page.goto('/settings/users');
  const email = `${unique('viewer')}@e2e.example.com`;
  await page.getByLabel('Name').fill('Vera Viewer');
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Role', { exact: true }).first().selectOption('viewer');
  await page.getByRole('button', { name: 'Add member' }).click();
  const link = await page.getByLabel('Invitation link').inputValue();
  expect(link).toMatch(/\/invite\/inv_/);

  const invitee = await browser.newContext();
  const p = await invitee.newPage();
  await p.goto(link);
  await expect(p.getByRole('heading', { name: /Join/ })).toBeVisible();
  await p.getByLabel('Choose a password').fill('viewer-password-1');
  await p.getByRole('button', { name: 'Join' }).click();
  await expect(p).toHaveURL(/\/login\?joined=1/);
  await p.getByLabel('Password').fill('viewer-password-1');
  await p.getByRole('button', { name: 'Sign in' }).click();
  await expect(p.getByTestId('current-user')).toHaveText('Vera Viewer');
  await p.goto(link);
  await expect(p.getByRole('heading', { name: 'Invitation not valid' })).toBeVisible();
  await invitee.close();
});
