import { expect, test } from '@playwright/test';
import { ADMIN } from './constants';
import { createToken, signInViaApi, unique } from './helpers';

test('an operator adds a package from the index, builds the host, and follows the build live; a broken module fails visibly', async ({ page, request }) => {
  const token = await createToken(request, ADMIN, ['hosts.write', 'fleet.read', 'builds.run']);
  const headers = { authorization: `Bearer ${token}` };
  // The worker indexes the stand-in nixpkgs when it starts.
  await expect
    .poll(async () => ((await (await request.get('/api/v1/packages?q=hello', { headers })).json()) as { index: { status: string } | null }).index?.status, { timeout: 60_000 })
    .toBe('ready');

  const host = unique('bld');
  expect((await request.post('/api/v1/hosts', { headers, data: { name: host, tags: ['e2e'] } })).status()).toBe(201);
  await signInViaApi(page.context(), ADMIN.email, ADMIN.password);

  await page.goto(`/hosts/${host}/config`);
  await page.getByLabel('Search packages').fill('greet');
  await page.getByRole('option', { name: /hello/ }).click();
  await expect(page.getByRole('list', { name: 'Packages' })).toContainText('hello');
  await page.getByLabel('Change message').fill('Add hello');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status')).toContainText('Saved as version 2.');

  await page.goto(`/hosts/${host}`);
  await page.getByRole('button', { name: 'Build' }).click();
  await expect(page).toHaveURL(/\/builds\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId('build-status')).toHaveText('succeeded', { timeout: 60_000 });
  await expect(page.getByTestId('build-store-path')).toContainText(`-nixos-system-${host}-24.11.standin`);
  await expect(page.getByTestId('build-log')).toContainText('pushed');
  await page.screenshot({ path: 'test-results/screens/build-succeeded.png', fullPage: true });
  const goodPath = await page.getByTestId('build-store-path').textContent();

  // A module that parses but does not evaluate: the build fails with Nix's own words.
  const current = (await (await request.get(`/api/v1/hosts/${host}/config`, { headers })).json()) as { version: number };
  const saved = await request.put(`/api/v1/hosts/${host}/config`, {
    headers,
    data: { module: '{ pkgs, ... }:\n{\n  environment.systemPackages = [ pkgs.noSuchThing ];\n}\n', baseVersion: current.version },
  });
  expect(saved.status()).toBe(200);
  await page.goto(`/hosts/${host}`);
  await page.getByRole('button', { name: 'Build' }).click();
  await expect(page.getByTestId('build-status')).toHaveText('failed', { timeout: 60_000 });
  await expect(page.getByTestId('build-error')).toContainText("attribute 'noSuchThing' missing");
  await page.screenshot({ path: 'test-results/screens/build-failed.png', fullPage: true });

  await page.goto(`/hosts/${host}`);
  await expect(page.getByTestId('current-build')).toContainText(goodPath ?? 'missing');
});
