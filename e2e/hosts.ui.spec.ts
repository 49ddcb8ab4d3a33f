import { expect, test, type Page } from '@playwright/test';
import { ADMIN } from './constants';
import { createToken, signInViaApi, unique } from './helpers';

async function typeConfig(page: Page, text: string) {
  const editor = page.getByTestId('nix-editor').locator('.cm-content');
  await editor.click();
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.press('Delete');
  // insertText, not type(): the editor's auto-closing brackets would double ours.
  await page.keyboard.insertText(text);
}

test('an operator edits a host config: syntax error at its line, save, diff, revert, and a conflict from a second browser', async ({ browser, request }) => {
  const adminToken = await createToken(request, ADMIN, ['users.manage']);
  const email = `${unique('ops')}@e2e.example.com`;
  const created = await request.post('/api/v1/users', {
    headers: { authorization: `Bearer ${adminToken}` },
    data: { email, name: 'Otto Operator', role: 'operator', password: 'operator-password-2' },
  });
  expect(created.status()).toBe(201);

  const ctxA = await browser.newContext();
  await signInViaApi(ctxA, email, 'operator-password-2');
  const page = await ctxA.newPage();
  const host = unique('web');

  await page.goto('/hosts/new');
  await page.getByLabel('Name').fill(host);
  await page.getByLabel('Tags').fill('web, e2e');
  await page.getByRole('button', { name: 'Add host' }).click();
  await expect(page.getByTestId('enroll-token')).toHaveValue(/^enr_/);
  await page.getByRole('link', { name: 'Edit its configuration' }).click();
  await expect(page.getByTestId('nix-editor')).toContainText(`networking.hostName = "${host}"`);

  const broken = `{ config, pkgs, ... }:\n{\n  networking.hostName = "${host}"\n  services.nginx.enable = true;\n}\n`;
  await typeConfig(page, broken);
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Not saved: line 4, column 25' })).toBeVisible();
  await expect(page.locator('.cm-lintRange-error')).toHaveCount(1);
  await expect(page.locator('.cm-lineNumbers .cm-activeLineGutter')).toHaveText('4');
  await expect(page.getByTestId('nix-editor')).toContainText('services.nginx.enable = true;');
  await page.screenshot({ path: 'test-results/screens/config-syntax-error.png', fullPage: true });

  const fixed = broken.replace(`"${host}"\n`, `"${host}";\n`);
  await typeConfig(page, fixed);
  await page.getByLabel('Change message').fill('Enable nginx');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status')).toContainText('Saved as version 2.');

  // A second browser opens the config now, on version 2.
  const ctxB = await browser.newContext();
  await signInViaApi(ctxB, email, 'operator-password-2');
  const other = await ctxB.newPage();
  await other.goto(`/hosts/${host}/config`);
  await expect(other.getByText('Editing on version 2')).toBeVisible();

  await typeConfig(page, fixed.replace('services.nginx.enable = true;', 'services.nginx.enable = true;\n  services.openssh.enable = true;'));
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status')).toContainText('Saved as version 3.');

  await typeConfig(other, fixed.replace('services.nginx.enable = true;', 'services.nginx.enable = false;'));
  await other.getByRole('button', { name: 'Save' }).click();
  await expect(other.getByTestId('conflict-view')).toBeVisible();
  await expect(other.getByText('Saved: version 3')).toBeVisible();
  await expect(other.getByTestId('nix-diff')).toContainText('services.openssh.enable = true;');
  await other.screenshot({ path: 'test-results/screens/config-conflict.png', fullPage: true });
  await ctxB.close();

  await page.getByRole('link', { name: 'History' }).click();
  await expect(page.getByTestId('version-3')).toBeVisible();
  await page.getByLabel('Compare from version 1').check();
  await page.getByLabel('Compare to version 2').check();
  await page.getByRole('button', { name: 'Compare selected versions' }).click();
  await expect(page.getByRole('heading', { name: 'Version 1 → version 2' })).toBeVisible();
  await expect(page.getByTestId('nix-diff')).toContainText('services.nginx.enable = true;');
  await page.screenshot({ path: 'test-results/screens/config-diff.png', fullPage: true });

  await page.getByTestId('version-1').getByRole('button', { name: 'Revert to v1' }).click();
  await expect(page.getByRole('heading', { name: 'Version 3 → version 4' })).toBeVisible();
  await expect(page.getByTestId('version-4')).toContainText('Revert to version 1');
  const api = await ctxA.request.get(`/api/v1/hosts/${host}/config`);
  const latest = (await api.json()) as { version: number; module: string };
  expect(latest.version).toBe(4);
  expect(latest.module).not.toContain('nginx');
  await ctxA.close();
});

test('the host list filters by tag and search, and a viewer cannot change anything', async ({ browser, request }) => {
  const token = await createToken(request, ADMIN, ['hosts.write', 'users.manage', 'fleet.read']);
  const headers = { authorization: `Bearer ${token}` };
  const prefix = unique('lst');
  for (const [name, tags] of [
    [`${prefix}-a`, ['alpha']],
    [`${prefix}-b`, ['beta']],
  ] as const) {
    expect((await request.post('/api/v1/hosts', { headers, data: { name, tags } })).status()).toBe(201);
  }
  const viewerEmail = `${unique('viewer')}@e2e.example.com`;
  await request.post('/api/v1/users', { headers, data: { email: viewerEmail, name: 'Vic Viewer', role: 'viewer', password: 'viewer-password-22' } });
  const ctx = await browser.newContext();
  await signInViaApi(ctx, viewerEmail, 'viewer-password-22');
  const page = await ctx.newPage();
  await page.goto(`/hosts?q=${prefix}`);
  await expect(page.getByTestId(`host-row-${prefix}-a`)).toBeVisible();
  await expect(page.getByTestId(`host-row-${prefix}-b`)).toBeVisible();
  await page.getByRole('link', { name: 'beta', exact: true }).click();
  await expect(page.getByTestId(`host-row-${prefix}-a`)).toHaveCount(0);
  await expect(page.getByTestId(`host-row-${prefix}-b`)).toBeVisible();
  await expect(page.getByRole('link', { name: 'New host' })).toHaveCount(0);
  await expect(page.getByLabel(`Select ${prefix}-b`)).toHaveCount(0);
  await page.goto(`/hosts/${prefix}-b/config`);
  await expect(page.getByRole('button', { name: 'Save' })).toHaveCount(0);
  const write = await ctx.request.put(`/api/v1/hosts/${prefix}-b/config`, { data: { module: '{ }', baseVersion: 1 } });
  expect(write.status()).toBe(403);
  await ctx.close();
});
