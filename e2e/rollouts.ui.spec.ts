import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect, test, type APIRequestContext, type Browser, type Page } from '@playwright/test';
import { ADMIN } from './constants';
import { agentProcess } from './agent-process';
import { createToken, signInViaApi, unique } from './helpers';

const SCREENS = 'test-results/screens';

/**
 * A real agent on a store root of its own. Its Nix caches narinfos in its own directory
 * too, as a real host would: with the machine's shared cache, a path another run signed
 * with that run's fleet key (the `hello` package, whose store path never changes) would
 * be taken from it and refused.
 */
const agent = (args: string[], stateDir: string) => agentProcess(args, { XDG_CACHE_HOME: path.join(stateDir, 'xdg-cache') });

type Api = { request: APIRequestContext; headers: Record<string, string> };

async function member(api: Api, role: 'operator' | 'viewer') {
  const email = `${unique(role)}@e2e.example.com`;
  const password = `${role}-password-rollouts`;
  const res = await api.request.post('/api/v1/users', { headers: api.headers, data: { email, name: `Rollout ${role}`, role, password } });
  expect(res.status(), await res.text()).toBe(201);
  return { email, password };
}

async function signedInPage(browser: Browser, who: { email: string; password: string }, colorScheme: 'light' | 'dark' = 'light') {
  const context = await browser.newContext({ colorScheme, viewport: { width: 1360, height: 900 } });
  await signInViaApi(context, who.email, who.password);
  return context.newPage();
}

async function deploymentStatus(api: Api, id: string) {
  const res = await api.request.get(`/api/v1/deployments/${id}`, { headers: api.headers });
  return ((await res.json()) as { status: string }).status;
}

/** Opens the host list filtered to this test's tag, selects every host and opens the deploy dialog. */
async function openDeployDialog(page: Page, tag: string, hosts: number) {
  await page.goto(`/hosts?tag=${tag}`);
  await expect(page.getByRole('checkbox', { name: /^Select (?!all)/ })).toHaveCount(hosts);
  await page.getByRole('checkbox', { name: 'Select all' }).check();
  await page.getByRole('button', { name: 'Deploy…' }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog.getByRole('heading', { name: `Deploy to ${hosts} hosts` })).toBeVisible();
  // The fields appear once the fleet's defaults have arrived.
  await expect(dialog.getByLabel('Canaries', { exact: true })).toBeVisible();
  return dialog;
}

test('an operator rolls out to three hosts in waves from the host list, follows it live, and rolls it back; a viewer only watches', async ({ browser, request, baseURL }) => {
  test.setTimeout(420_000);
  const token = await createToken(request, ADMIN, ['users.manage', 'hosts.write', 'fleet.read', 'builds.run', 'deployments.write']);
  const api = { request, headers: { authorization: `Bearer ${token}` } };
  const tag = unique('roll');
  const names = [unique('ra'), unique('rb'), unique('rc')].sort();
  const stateDirs: string[] = [];
  const runs: ReturnType<typeof agent>[] = [];
  try {
    for (const name of names) {
      const created = await request.post('/api/v1/hosts', { headers: api.headers, data: { name, tags: [tag] } });
      expect(created.status(), await created.text()).toBe(201);
      const { enrollToken } = (await created.json()) as { enrollToken: string };
      const stateDir = await mkdtemp(path.join(os.tmpdir(), 'flotilla-e2e-rollout-'));
      stateDirs.push(stateDir);
      const enrol = agent(['enroll', '--server', baseURL as string, '--token', enrollToken, '--state-dir', stateDir], stateDir);
      expect(await enrol.exited, enrol.output()).toBe(0);
      runs.push(agent(['run', '--state-dir', stateDir, '--store-root', path.join(stateDir, 'root')], stateDir));
    }
    await expect
      .poll(async () => {
        const res = await request.get(`/api/v1/hosts?tag=${tag}`, { headers: api.headers });
        return ((await res.json()) as { hosts: { online: boolean }[] }).hosts.filter((h) => h.online).length;
      }, { timeout: 30_000 })
      .toBe(3);

    // A first system on every host, all at once, so the rollout has something to roll back to.
    const first = await request.post('/api/v1/deployments', { headers: api.headers, data: { hosts: names, build: true, rollout: { canaries: 0, maxInFlight: '100%', watchSeconds: 0 } } });
    expect(first.status(), await first.text()).toBe(201);
    const firstId = ((await first.json()) as { id: string }).id;
    await expect.poll(() => deploymentStatus(api, firstId), { timeout: 150_000 }).toBe('succeeded');

    // The change to roll out: a package on every host.
    for (const name of names) {
      const saved = await request.put(`/api/v1/hosts/${name}/config`, { headers: api.headers, data: { packages: ['hello'], baseVersion: 1, message: 'add hello' } });
      expect(saved.status(), await saved.text()).toBe(200);
    }

    const operator = await member(api, 'operator');
    const viewer = await member(api, 'viewer');
    const page = await signedInPage(browser, operator);
    const dialog = await openDeployDialog(page, tag, 3);
    await expect(dialog.getByLabel('Build from current config')).toBeChecked();
    await dialog.getByLabel('Canaries', { exact: true }).fill('1');
    await dialog.getByLabel('At a time', { exact: true }).fill('1');
    await dialog.getByLabel('Watch canaries for (seconds)', { exact: true }).fill('3');
    // The preview follows the fields: one canary, then two waves of one.
    await expect(dialog.getByTestId('preview-wave-0')).toContainText('Canaries');
    await expect(dialog.getByTestId('preview-wave-0').getByRole('listitem')).toHaveCount(1);
    await expect(dialog.getByTestId('preview-wave-1')).toContainText('Wave 1');
    await expect(dialog.getByTestId('preview-wave-2')).toContainText('Wave 2');
    await expect(dialog.getByTestId('preview-wave-3')).toHaveCount(0);
    await expect(dialog.getByTestId('wave-preview')).toHaveAttribute('aria-busy', 'false');
    await page.screenshot({ path: `${SCREENS}/rollout-dialog.png` });

    // A wrong value is refused in place, and Start waits for a right one.
    await dialog.getByLabel('Tolerated failures', { exact: true }).fill('lots');
    await expect(dialog.getByText('A number of hosts, or a share such as 25%')).toBeVisible();
    await expect(dialog.getByRole('button', { name: 'Start deployment' })).toBeDisabled();
    await dialog.getByLabel('Tolerated failures', { exact: true }).fill('0');
    await expect(dialog.getByText('A number of hosts, or a share such as 25%')).toHaveCount(0);

    await dialog.getByRole('button', { name: 'Start deployment' }).click();
    await expect(page).toHaveURL(/\/deployments\/[0-9a-f-]{36}$/);
    const rolloutId = page.url().split('/').pop() as string;
    await expect(page.getByTestId('strategy-summary')).toContainText('1 canary · 1 at a time · watch 3 s · tolerate 0 failures · on failure: halt · offline: wait 24 h');

    // Live, without reloads: the canary finishes while the last wave has not started.
    await expect(page.getByTestId('wave-0-progress')).toHaveText('1 / 1 finished', { timeout: 120_000 });
    await expect(page.getByTestId('wave-0')).toContainText('done');
    await expect(page.getByTestId('wave-2-progress')).toHaveText('0 / 1 finished');
    await page.screenshot({ path: `${SCREENS}/rollout-mid.png`, fullPage: true });
    await expect(page.getByTestId('wave-1-progress')).toHaveText('1 / 1 finished', { timeout: 60_000 });
    await expect(page.getByTestId('deployment-status')).toHaveText('succeeded', { timeout: 60_000 });
    await expect(page.getByTestId('wave-2-progress')).toHaveText('1 / 1 finished');
    await expect(page.getByTestId('deployment-progress')).toContainText('3 of 3 hosts finished');
    await expect(page.getByTestId('deployment-reason')).toHaveText('3 succeeded');
    // The builds finished after the page was first drawn; their diffs come in with them.
    await expect(page.getByTestId('closure-changes').getByRole('listitem')).toHaveCount(3);
    await expect(page.getByTestId('closure-changes')).toContainText('+1 added');
    await page.getByTestId('closure-changes').locator('summary').first().click();
    await expect(page.getByTestId('closure-diff').first()).toContainText('+ hello');
    await page.screenshot({ path: `${SCREENS}/rollout-finished.png`, fullPage: true });

    // The inventory browses without a search: hello is among the most installed (other tests' hosts may run it
    // too), in the one version the stand-in has, and that version opens a list with the three hosts.
    await page.goto('/inventory');
    await page.getByTestId('installed-hello').getByRole('link', { name: 'hello', exact: true }).click();
    await expect(page.getByRole('heading', { name: 'Versions of hello' })).toBeVisible();
    await expect(page.getByTestId('package-versions').getByRole('listitem')).toHaveCount(1);
    await page.getByTestId('package-version-2.12.1').getByRole('link').click();
    for (const name of names) await expect(page.getByTestId(`inventory-host-${name}`)).toBeVisible();
    await page.screenshot({ path: `${SCREENS}/inventory-browse.png`, fullPage: true });
    await page.goto(`/deployments/${rolloutId}`);

    // A viewer watches the same page, with nothing to press.
    const viewerPage = await signedInPage(browser, viewer, 'dark');
    await viewerPage.goto(`/deployments/${rolloutId}`);
    await expect(viewerPage.getByTestId('deployment-status')).toHaveText('succeeded');
    await expect(viewerPage.getByTestId(`target-${names[0]}`)).toContainText('succeeded');
    for (const name of ['Pause', 'Resume', 'Cancel', 'Roll back']) await expect(viewerPage.getByRole('button', { name })).toHaveCount(0);
    await viewerPage.screenshot({ path: `${SCREENS}/rollout-finished-dark.png`, fullPage: true });

    // Roll it back: asked first, then the new deployment's page.
    await page.getByRole('button', { name: 'Roll back' }).click();
    const confirm = page.getByRole('dialog');
    await expect(confirm).toContainText(names.join(', '));
    await confirm.getByRole('button', { name: 'Roll back 3 hosts' }).click();
    await expect(page).not.toHaveURL(new RegExp(rolloutId));
    await expect(page).toHaveURL(/\/deployments\/[0-9a-f-]{36}$/);
    await expect(page.getByText(`This deployment rolls back deployment ${rolloutId.slice(0, 8)}`)).toBeVisible();
    await expect(page.getByTestId('deployment-status')).toHaveText('succeeded', { timeout: 90_000 });
    await page.screenshot({ path: `${SCREENS}/rollback.png`, fullPage: true });

    // The history: everything, then only what was rolled back.
    await page.goto('/deployments');
    // One wording for the status, in the badge and in the filter (components/deployments/status-label.ts).
    await expect(page.getByTestId(`deployment-${rolloutId}`)).toContainText('rolled back');
    await expect(page.getByTestId(`deployment-${firstId}`)).toContainText('3 ✓');
    await page.screenshot({ path: `${SCREENS}/deployments-history.png`, fullPage: true });
    await page.getByRole('link', { name: 'Rolled back', exact: true }).click();
    await expect(page).toHaveURL(/status=rolled-back/);
    await expect(page.getByTestId(`deployment-${rolloutId}`)).toBeVisible();
    await expect(page.getByTestId(`deployment-${firstId}`)).toHaveCount(0);
    await viewerPage.goto('/deployments');
    await expect(viewerPage.getByTestId(`deployment-${rolloutId}`)).toBeVisible();
    await viewerPage.screenshot({ path: `${SCREENS}/deployments-history-dark.png`, fullPage: true });

    const listed = await request.get('/api/v1/deployments?status=rolled-back&limit=5', { headers: api.headers });
    expect(listed.status()).toBe(200);
    expect(((await listed.json()) as { deployments: { id: string }[] }).deployments.map((d) => d.id)).toContain(rolloutId);
  } finally {
    for (const run of runs) run.child.kill('SIGTERM');
    await Promise.all(runs.map((r) => r.exited));
    for (const dir of stateDirs) await rm(dir, { recursive: true, force: true });
  }
});

test('saved rollout defaults are what the deploy dialog starts from', async ({ browser, request }) => {
  const token = await createToken(request, ADMIN, ['hosts.write', 'fleet.read']);
  const headers = { authorization: `Bearer ${token}` };
  const tag = unique('defaults');
  for (const name of [unique('da'), unique('db'), unique('dc'), unique('dd')]) {
    expect((await request.post('/api/v1/hosts', { headers, data: { name, tags: [tag] } })).status()).toBe(201);
  }
  // In dark mode: the settings form and the dialog are looked at in both themes.
  const page = await signedInPage(browser, ADMIN, 'dark');
  await page.goto('/settings');
  const canaries = page.locator('#defaults-canaries');
  const before = { canaries: await canaries.inputValue(), maxInFlight: await page.locator('#defaults-maxInFlight').inputValue() };
  try {
    await canaries.fill('2');
    await page.locator('#defaults-maxInFlight').fill('50%');
    await page.locator('#defaults-offlineHosts').selectOption('skip');
    await page.getByRole('button', { name: 'Save rollout defaults' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Saved' })).toBeVisible();
    await page.screenshot({ path: `${SCREENS}/settings-rollout-defaults.png`, fullPage: true });

    const dialog = await openDeployDialog(page, tag, 4);
    await expect(dialog.getByLabel('Canaries', { exact: true })).toHaveValue('2');
    await expect(dialog.getByLabel('At a time', { exact: true })).toHaveValue('50%');
    await expect(dialog.getByLabel('Offline hosts', { exact: true })).toHaveValue('skip');
    // Never enrolled, so offline: the preview says so, and what skipping means.
    await expect(dialog.getByTestId('preview-wave-0').getByRole('listitem')).toHaveCount(2);
    await expect(dialog.getByTestId('wave-preview')).toContainText('4 offline: skipped when their turn comes.');
    await expect(dialog.getByTestId('wave-preview')).toHaveAttribute('aria-busy', 'false');
    await page.screenshot({ path: `${SCREENS}/rollout-dialog-defaults.png` });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(page.getByRole('dialog')).toHaveCount(0);
  } finally {
    // Other tests deploy with the fleet's defaults: put them back.
    await page.goto('/settings');
    await canaries.fill(before.canaries);
    await page.locator('#defaults-maxInFlight').fill(before.maxInFlight);
    await page.locator('#defaults-offlineHosts').selectOption('wait');
    await page.getByRole('button', { name: 'Save rollout defaults' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Saved' })).toBeVisible();
  }
});

test('a deployment to offline hosts waits, and is paused, resumed and cancelled from its page', async ({ browser, request }) => {
  test.setTimeout(180_000);
  const token = await createToken(request, ADMIN, ['users.manage', 'hosts.write']);
  const api = { request, headers: { authorization: `Bearer ${token}` } };
  const tag = unique('offline');
  const names = [unique('oa'), unique('ob')].sort();
  for (const name of names) expect((await request.post('/api/v1/hosts', { headers: api.headers, data: { name, tags: [tag] } })).status()).toBe(201);
  const page = await signedInPage(browser, await member(api, 'operator'));

  const dialog = await openDeployDialog(page, tag, 2);
  await dialog.getByLabel('Canaries', { exact: true }).fill('1');
  await expect(dialog.getByTestId('preview-wave-0').getByRole('listitem')).toHaveCount(1);
  await expect(dialog.getByTestId('wave-preview')).toHaveAttribute('aria-busy', 'false');
  await dialog.getByRole('button', { name: 'Start deployment' }).click();
  await expect(page).toHaveURL(/\/deployments\/[0-9a-f-]{36}$/);

  // Built, then held: the canary's host has never connected.
  await expect(page.getByTestId(`target-${names[0]}`)).toContainText('host offline', { timeout: 120_000 });
  await expect(page.getByTestId('deployment-status')).toHaveText('canary');
  await page.screenshot({ path: `${SCREENS}/rollout-waiting.png`, fullPage: true });

  await page.getByRole('button', { name: 'Pause' }).click();
  await expect(page.getByTestId('deployment-status')).toHaveText('paused');
  await expect(page.getByTestId('deployment-reason')).toContainText('paused by');
  await expect(page.getByRole('button', { name: 'Pause' })).toHaveCount(0);
  await page.getByRole('button', { name: 'Resume' }).click();
  await expect(page.getByTestId('deployment-status')).toHaveText('canary');

  await page.getByRole('button', { name: 'Cancel' }).click();
  const confirm = page.getByRole('dialog');
  await expect(confirm).toContainText('2 hosts that have not started will not be updated.');
  await confirm.getByRole('button', { name: 'Cancel deployment' }).click();
  await expect(page.getByTestId('deployment-status')).toHaveText('cancelled');
  await expect(page.getByRole('dialog')).toHaveCount(0);
  for (const name of names) await expect(page.getByTestId(`target-${name}`)).toContainText('cancelled');
  for (const name of ['Pause', 'Resume', 'Cancel', 'Roll back']) await expect(page.getByRole('button', { name })).toHaveCount(0);
});

test('a CI deploy token limited to tagged hosts is made in the UI, listed with its limit, and refused elsewhere', async ({ browser, request, playwright, baseURL }) => {
  const admin = { request, headers: { authorization: `Bearer ${await createToken(request, ADMIN, ['hosts.write'])}` } };
  const [inside, outside] = [unique('ci-in'), unique('ci-out')];
  const tag = unique('ci');
  expect((await request.post('/api/v1/hosts', { headers: admin.headers, data: { name: inside, tags: [tag] } })).status()).toBe(201);
  expect((await request.post('/api/v1/hosts', { headers: admin.headers, data: { name: outside } })).status()).toBe(201);

  const page = await signedInPage(browser, ADMIN);
  await page.goto('/settings/tokens');
  const name = unique('deploy');
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('deployments.write').check();
  await expect(page.getByText('For CI deploy tokens')).toBeVisible();
  await page.getByLabel('Limit to hosts tagged (optional)').fill(` ${tag}, web `);
  await page.getByRole('button', { name: 'Create token' }).click();
  const token = await page.getByTestId('new-token').inputValue();
  await expect(page.getByTestId(`token-${name}`).getByTestId('token-host-tags')).toHaveText(`only hosts tagged${tag}web`);
  await page.screenshot({ path: `${SCREENS}/token-host-tags.png`, fullPage: true });

  const api = await playwright.request.newContext({ baseURL });
  const headers = { authorization: `Bearer ${token}` };
  const allowed = await api.post('/api/v1/deployments/preview', { headers, data: { hosts: [inside], build: false } });
  expect(allowed.status(), await allowed.text()).toBe(200);
  const refused = await api.post('/api/v1/deployments/preview', { headers, data: { hosts: [inside, outside], build: false } });
  expect(refused.status()).toBe(403);
  expect(((await refused.json()) as { error: { details: { outsideTokenScope: string[] } } }).error.details.outsideTokenScope).toEqual([outside]);
  await api.dispose();
});
