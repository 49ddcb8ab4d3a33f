// Fleet health in detail, for real: a real agent gets two systems built from the
// stand-in nixpkgs and deployed one after the other (the second adds hello); the host
// page's timeline shows both generations and the package between them, the inventory
// finds hello on that host and drills into it, and an admin adds and deletes an alert
// rule while a viewer only reads.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect, test, type APIRequestContext, type Browser, type Page } from '@playwright/test';
import { agentProcess as agent } from './agent-process';
import { ADMIN } from './constants';
import { createToken, signInViaApi, unique } from './helpers';

const SCREENS = 'test-results/screens';

type Api = { request: APIRequestContext; headers: Record<string, string> };

async function json<T>(res: Awaited<ReturnType<APIRequestContext['get']>>): Promise<T> {
  expect(res.ok(), await res.text()).toBe(true);
  return (await res.json()) as T;
}

/** Saves the host's packages as a new config version, then builds and deploys it; resolves with the deployed system. */
async function deployPackages(api: Api, host: string, packages: string[], agentOutput: () => string) {
  const current = await json<{ version: number }>(await api.request.get(`/api/v1/hosts/${host}/config`, { headers: api.headers }));
  const saved = await api.request.put(`/api/v1/hosts/${host}/config`, { headers: api.headers, data: { packages, baseVersion: current.version, message: packages.join(' ') } });
  expect(saved.status(), await saved.text()).toBe(200);
  const started = await api.request.post('/api/v1/deployments', { headers: api.headers, data: { hosts: [host], build: true, rollout: { canaries: 0, watchSeconds: 0 } } });
  expect(started.status(), await started.text()).toBe(201);
  const { id } = (await started.json()) as { id: string };
  const deployment = async () => json<{ status: string }>(await api.request.get(`/api/v1/deployments/${id}`, { headers: api.headers }));
  await expect.poll(async () => (await deployment()).status, { timeout: 60_000 }).toMatch(/^(succeeded|failed|halted)$/);
  expect((await deployment()).status, agentOutput()).toBe('succeeded');
  return (await json<{ currentSystem: string }>(await api.request.get(`/api/v1/hosts/${host}`, { headers: api.headers }))).currentSystem;
}

async function signedInPage(browser: Browser, who: { email: string; password: string }): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  await signInViaApi(context, who.email, who.password);
  return context.newPage();
}

test('two deployed generations show on the host page with their package change, the inventory finds the package on the host, alert rules are added and deleted', async ({ browser, request, baseURL }) => {
  test.setTimeout(150_000);
  const token = await createToken(request, ADMIN, ['users.manage', 'hosts.write', 'fleet.read', 'builds.run', 'deployments.write', 'settings.manage']);
  const api: Api = { request, headers: { authorization: `Bearer ${token}` } };
  const host = unique('fd');
  const created = await request.post('/api/v1/hosts', { headers: api.headers, data: { name: host } });
  expect(created.status(), await created.text()).toBe(201);
  const { enrollToken } = (await created.json()) as { enrollToken: string };
  const viewer = { email: `${unique('viewer')}@e2e.example.com`, password: 'viewer-password-fleet-detail', name: 'Vera Viewer' };
  expect((await request.post('/api/v1/users', { headers: api.headers, data: { ...viewer, role: 'viewer' } })).status()).toBe(201);

  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'flotilla-e2e-fleet-detail-'));
  const enrol = agent(['enroll', '--server', baseURL as string, '--token', enrollToken, '--state-dir', stateDir]);
  expect(await enrol.exited, enrol.output()).toBe(0);
  const run = agent(['run', '--state-dir', stateDir, '--store-root', path.join(stateDir, 'root')]);
  try {
    await expect.poll(async () => (await json<{ online: boolean }>(await request.get(`/api/v1/hosts/${host}`, { headers: api.headers }))).online, { timeout: 30_000 }).toBe(true);
    const first = await test.step('a first system with jq', () => deployPackages(api, host, ['jq'], run.output));
    const second = await test.step('a second system that adds hello', () => deployPackages(api, host, ['jq', 'hello'], run.output));
    expect(second).not.toBe(first);

    const admin = await signedInPage(browser, ADMIN);
    await test.step('the host page: two generations, hello added in the newest, vitals charted', async () => {
      await admin.goto(`/hosts/${host}`);
      const generations = admin.getByTestId('generation');
      await expect(generations).toHaveCount(2);
      await expect(generations.nth(0)).toHaveAttribute('data-store-path', second);
      await expect(generations.nth(0)).toContainText('running now');
      await expect(generations.nth(0).getByTestId('generation-changes')).toHaveText('+ hello 2.12.1');
      await expect(generations.nth(1)).toHaveAttribute('data-store-path', first);
      await expect(generations.nth(1)).not.toContainText('running now');
      // Each generation links to the deployment that brought it.
      await expect(generations.nth(0).getByRole('link', { name: /^Deployment [0-9a-f]{8}$/ })).toHaveAttribute('href', /^\/deployments\/[0-9a-f-]{36}$/);
      // The agent's first heartbeat is a sample: the charts have something to draw.
      await expect(admin.getByTestId('host-metrics')).toBeVisible();
      await expect(admin.getByTestId('chart-store-free').locator('.recharts-area-curve, .recharts-area-dots').first()).toBeVisible();
      // What the page showed before stays: the activations of both deployments.
      await expect(admin.getByTestId('activations').locator('li')).toHaveCount(2);
      await admin.screenshot({ path: `${SCREENS}/fleet-detail-host.png`, fullPage: true });
    });

    await test.step('the inventory finds hello at 2.12.x on exactly this host, and drills in', async () => {
      await admin.goto('/inventory');
      await admin.getByLabel('Package name, optionally followed by a version').fill('hello 2.12');
      await admin.getByRole('button', { name: 'Search' }).click();
      await expect(admin).toHaveURL(/\/inventory\?q=hello\+2\.12$/);
      const row = admin.getByTestId('inventory-hello-2.12.1');
      await expect(row).toContainText('1 host');
      await admin.getByLabel('Package name, optionally followed by a version').fill('hello 2.11');
      await admin.getByRole('button', { name: 'Search' }).click();
      await expect(admin.getByText('No host runs a package matching “hello 2.11”')).toBeVisible();
      await admin.goBack();
      await admin.getByTestId('inventory-hello-2.12.1').getByRole('link', { name: '1 host' }).click();
      await expect(admin.getByRole('heading', { name: 'Hosts running hello 2.12.1' })).toBeVisible();
      await expect(admin.getByTestId(`inventory-host-${host}`)).toContainText('online');
      await admin.screenshot({ path: `${SCREENS}/fleet-detail-inventory.png`, fullPage: true });
      await admin.getByTestId(`inventory-host-${host}`).getByRole('link', { name: host }).click();
      await expect(admin).toHaveURL(new RegExp(`/hosts/${host}$`));
    });

    const rule = unique('Laptops offline');
    await test.step('an admin adds an alert rule and deletes it', async () => {
      await admin.goto('/settings/alerts');
      await expect(admin.getByRole('link', { name: 'Alerts', exact: true })).toHaveAttribute('aria-current', 'page');
      await admin.getByLabel('Name').fill(rule);
      await admin.getByLabel('When').selectOption('disk-low');
      await admin.getByLabel('Free space below (MiB)').fill('2048');
      await admin.getByLabel('Only hosts tagged (optional)').fill('laptops, eu');
      await admin.getByRole('button', { name: 'Add rule' }).click();
      const row = admin.getByTestId(`alert-rule-${rule}`);
      await expect(row).toContainText('Under 2048 MiB free on the Nix store');
      await expect(row).toContainText('laptops');
      await expect(row).toContainText('eu');
      const listed = await json<{ rules: { name: string; kind: string; threshold: number; tags: string[] }[] }>(await request.get('/api/v1/alert-rules', { headers: api.headers }));
      expect(listed.rules.find((r) => r.name === rule)).toMatchObject({ kind: 'disk-low', threshold: 2048, tags: ['laptops', 'eu'] });
      // The threshold field follows the kind: minutes for host-offline, none for failed units.
      await admin.getByLabel('When').selectOption('host-offline');
      await expect(admin.getByLabel('Minutes offline')).toBeVisible();
      await admin.getByLabel('When').selectOption('units-failed');
      await expect(admin.getByLabel(/Minutes offline|Free space below/)).toHaveCount(0);
      await admin.screenshot({ path: `${SCREENS}/fleet-detail-alerts.png`, fullPage: true });

      await row.getByRole('button', { name: `Delete the rule ${rule}` }).click();
      const dialog = admin.getByRole('dialog');
      await expect(dialog).toContainText(`Delete “${rule}”?`);
      await dialog.getByRole('button', { name: 'Delete rule' }).click();
      await expect(row).toHaveCount(0);
      const after = await json<{ rules: { name: string }[] }>(await request.get('/api/v1/alert-rules', { headers: api.headers }));
      expect(after.rules.map((r) => r.name)).not.toContain(rule);
    });

    await test.step('a viewer reads the alerts and the inventory but gets no write control', async () => {
      const keep = unique('Store low');
      expect((await request.post('/api/v1/alert-rules', { headers: api.headers, data: { name: keep, kind: 'disk-low', threshold: 1024 } })).status()).toBe(201);
      const page = await signedInPage(browser, viewer);
      await page.goto('/settings/alerts');
      await expect(page.getByTestId(`alert-rule-${keep}`)).toContainText('Under 1024 MiB free');
      await expect(page.getByRole('button', { name: 'Add rule' })).toHaveCount(0);
      await expect(page.getByRole('button', { name: /Delete/ })).toHaveCount(0);
      await page.screenshot({ path: `${SCREENS}/fleet-detail-alerts-viewer.png`, fullPage: true });
      await page.goto(`/inventory?q=jq`);
      await expect(page.getByTestId(/^inventory-jq-/).first()).toContainText(/\d+ hosts?\b/);
      await page.goto(`/hosts/${host}`);
      await expect(page.getByTestId('generation')).toHaveCount(2);
      await expect(page.getByRole('button', { name: 'Retire host' })).toHaveCount(0);
    });
  } finally {
    run.child.kill('SIGTERM');
    await run.exited;
    await rm(stateDir, { recursive: true, force: true });
  }
});
