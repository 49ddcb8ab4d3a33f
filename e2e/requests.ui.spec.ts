// Self-service requests from three seats: an employee asks for `hello` on their laptop,
// an operator reviews the closure diff and approves, a real agent activates it, and the
// employee's page (opened before the approval, never reloaded) shows it live. A manager
// reads the numbers. Also the refusals: another employee's machine (404, as for a
// machine that does not exist, and nothing created), a denial (config untouched), a never-allowed package (its reason shown).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect, test, type APIRequestContext, type Browser, type Page } from '@playwright/test';
import { ADMIN } from './constants';
import { agentProcess as agent } from './agent-process';
import { createToken, signInViaApi, unique } from './helpers';

const SCREENS = 'test-results/screens';

type Api = { request: APIRequestContext; headers: Record<string, string> };
type Person = { email: string; password: string; name: string };

async function member(api: Api, role: 'operator' | 'viewer' | 'requester', name: string): Promise<Person> {
  const person = { email: `${unique(role)}@e2e.example.com`, password: `${role}-password-requests`, name };
  const res = await api.request.post('/api/v1/users', { headers: api.headers, data: { ...person, role } });
  expect(res.status(), await res.text()).toBe(201);
  return person;
}

async function signedInPage(browser: Browser, who: Person, colorScheme: 'light' | 'dark' = 'light') {
  const context = await browser.newContext({ colorScheme, viewport: { width: 1360, height: 900 } });
  await signInViaApi(context, who.email, who.password);
  return context.newPage();
}

/** The page in light and in dark (next-themes follows the system scheme), for looking at both. */
async function screenshotBoth(page: Page, name: string, fullPage = true) {
  await page.screenshot({ path: `${SCREENS}/${name}.png`, fullPage });
  const scheme = await page.evaluate(() => (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'));
  const other = scheme === 'dark' ? 'light' : 'dark';
  await page.emulateMedia({ colorScheme: other });
  await expect(page.locator('html')).toHaveClass(new RegExp(other));
  await page.screenshot({ path: `${SCREENS}/${name}-${other}.png`, fullPage });
  await page.emulateMedia({ colorScheme: scheme });
  await expect(page.locator('html')).toHaveClass(new RegExp(scheme));
}

async function json<T>(res: Awaited<ReturnType<APIRequestContext['get']>>): Promise<T> {
  expect(res.ok(), await res.text()).toBe(true);
  return (await res.json()) as T;
}

test('an employee asks for hello, an operator approves it from the closure diff, a real agent activates it, and the employee watches it go live', async ({ browser, request, baseURL }) => {
  test.setTimeout(480_000);
  const token = await createToken(request, ADMIN, ['users.manage', 'hosts.write', 'fleet.read', 'builds.run', 'deployments.write', 'settings.manage', 'requests.review']);
  const api: Api = { request, headers: { authorization: `Bearer ${token}` } };
  const employee = await member(api, 'requester', 'Erin Employee');
  const colleague = await member(api, 'requester', 'Colin Colleague');
  const operator = await member(api, 'operator', 'Oona Operator');
  const manager = await member(api, 'viewer', 'Mona Manager');
  const laptop = unique('laptop');
  const theirs = unique('desk');

  // The worker indexes the stand-in nixpkgs when it starts.
  await expect
    .poll(async () => (await json<{ index: { status: string } | null }>(await request.get('/api/v1/packages?q=hello', { headers: api.headers }))).index?.status, { timeout: 60_000 })
    .toBe('ready');

  const created = await request.post('/api/v1/hosts', { headers: api.headers, data: { name: laptop, assignees: [employee.email] } });
  expect(created.status(), await created.text()).toBe(201);
  const { enrollToken } = (await created.json()) as { enrollToken: string };
  expect((await request.post('/api/v1/hosts', { headers: api.headers, data: { name: theirs, assignees: [colleague.email] } })).status()).toBe(201);
  // Enough software that the installed list gets its filter box.
  const base = ['bat', 'curl', 'fd', 'git', 'ripgrep', 'tmux', 'tree', 'vim'];
  expect((await request.put(`/api/v1/hosts/${laptop}/config`, { headers: api.headers, data: { packages: base, baseVersion: 1, message: 'first system' } })).status()).toBe(200);

  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'flotilla-e2e-requests-'));
  const enrol = agent(['enroll', '--server', baseURL as string, '--token', enrollToken, '--state-dir', stateDir]);
  expect(await enrol.exited, enrol.output()).toBe(0);
  const run = agent(['run', '--state-dir', stateDir, '--store-root', path.join(stateDir, 'root')]);
  try {
    await test.step('the laptop runs a first system built and deployed by Flotilla', async () => {
      await expect.poll(async () => (await json<{ online: boolean }>(await request.get(`/api/v1/hosts/${laptop}`, { headers: api.headers }))).online, { timeout: 30_000 }).toBe(true);
      const first = await request.post('/api/v1/deployments', { headers: api.headers, data: { hosts: [laptop], build: true, rollout: { canaries: 0, watchSeconds: 0 } } });
      expect(first.status(), await first.text()).toBe(201);
      const { id } = (await first.json()) as { id: string };
      const deployment = async () => json<{ status: string }>(await request.get(`/api/v1/deployments/${id}`, { headers: api.headers }));
      await expect.poll(async () => (await deployment()).status, { timeout: 150_000 }).toMatch(/^(succeeded|failed|halted)$/);
      expect((await deployment()).status, `${JSON.stringify(await deployment())}\n${run.output()}`).toBe('succeeded');
    });

    const me = await signedInPage(browser, employee);
    let requestId = '';
    await test.step('the employee finds the laptop on My machines and asks for hello', async () => {
      await me.goto('/');
      await expect(me.getByRole('heading', { name: 'My machines' })).toBeVisible();
      const card = me.getByTestId(`machine-${laptop}`);
      await expect(card.getByTestId('machine-presence')).toHaveText('online');
      await expect(card.getByTestId('machine-state')).toHaveText('up to date');
      await expect(card.getByTestId(`installed-${laptop}`).locator('[data-package]')).toHaveCount(base.length);
      await expect(me.getByTestId(`machine-${theirs}`)).toHaveCount(0);
      // The long list filters as one types.
      await card.getByLabel(`Filter installed packages on ${laptop}`).fill('grep');
      await expect(card.getByTestId(`installed-${laptop}`).locator('[data-package]')).toHaveCount(1);
      await card.getByLabel(`Filter installed packages on ${laptop}`).fill('');
      await screenshotBoth(me, 'requests-my-machines');

      await card.getByRole('button', { name: 'Request software' }).click();
      const dialog = me.getByRole('dialog');
      await expect(dialog.getByRole('heading', { name: `Request software for ${laptop}` })).toBeVisible();
      await dialog.getByLabel('Search packages').fill('hello');
      await dialog.getByRole('option', { name: /^hello 2\.12\.1/ }).click();
      await expect(dialog.getByTestId('picked-package')).toContainText('Install hello');
      // Installed software is not offered again.
      await dialog.getByLabel('Search packages').fill('git');
      await expect(dialog.getByRole('option', { name: /^git / })).toBeDisabled();
      await dialog.getByLabel('Search packages').fill('hello');
      await expect(dialog.getByRole('option', { name: /^hello 2\.12\.1/ })).toHaveAttribute('aria-selected', 'true');
      await expect(dialog.getByRole('listbox')).toHaveAttribute('aria-busy', 'false');
      await dialog.getByLabel('Why do you need it?').fill('To greet the new team members from the terminal');
      await screenshotBoth(me, 'requests-dialog', false);
      await dialog.getByRole('button', { name: 'Send request' }).click();
      await expect(me).toHaveURL(/\/requests\/[0-9a-f-]{36}$/);
      requestId = me.url().split('/').pop() as string;
      await expect(me.getByTestId('request-stepper')).toHaveAttribute('data-status', 'submitted');
      await expect(me.getByRole('heading', { name: `Install hello on ${laptop}` })).toBeVisible();
    });

    const ops = await signedInPage(browser, operator, 'dark');
    await test.step('the operator finds it in the queue and sees the closure diff with hello added', async () => {
      await ops.goto('/requests');
      const row = ops.getByTestId(`request-row-${requestId}`);
      await expect(row).toContainText('Install hello');
      await expect(row).toContainText(laptop);
      await expect(row).toContainText('Erin Employee');
      await expect(row).toContainText('To greet the new team members');
      await screenshotBoth(ops, 'requests-queue');
      await row.getByRole('link', { name: 'Install hello' }).click();
      await expect(ops).toHaveURL(new RegExp(`/requests/${requestId}$`));
      await expect(ops.getByTestId('package-change')).toContainText('+ hello');
      // The preview build starts when the review opens and is followed live.
      await expect(ops.getByTestId('closure-preview')).toHaveAttribute('data-build-status', 'succeeded', { timeout: 150_000 });
      await expect(ops.getByTestId('closure-diff')).toContainText('+ hello 2.12.1');
      await screenshotBoth(ops, 'requests-review');
      await ops.getByLabel('Message to Erin Employee').fill('Enjoy!');
      await ops.getByRole('button', { name: 'Approve', exact: true }).click();
      await expect(ops.getByTestId('request-stepper')).not.toHaveAttribute('data-status', 'submitted');
      await expect(ops.locator('main a[href^="/deployments/"]')).toBeVisible();
    });

    await test.step('the real agent activates it and the employee’s page, never reloaded, shows it live', async () => {
      // The rollout's canary watch (the organisation's default) passes before the deployment finishes.
      await expect(me.getByTestId('request-stepper')).toHaveAttribute('data-status', 'live', { timeout: 240_000 });
      await expect(me.getByTestId('request-status')).toContainText('live');
      await expect(me.getByText('Enjoy!')).toBeVisible();
      await screenshotBoth(me, 'requests-live');
      await me.getByRole('link', { name: 'See it on My machines' }).click();
      await expect(me.getByTestId(`installed-${laptop}`).locator('[data-package="hello"]')).toContainText('2.12.1');
      // Nothing is on its way any more (the simulated host may still want a reboot: its booted system stays the first one).
      await expect(me.getByTestId(`machine-${laptop}`).getByTestId('machine-state')).not.toHaveText('update pending');
    });

    await test.step('another employee’s machine is refused like one that does not exist, and nothing is created', async () => {
      const refused = await me.request.post('/api/v1/requests', { data: { host: theirs, kind: 'install', package: 'hello', reason: 'let me in' } });
      expect(refused.status()).toBe(404);
      const listed = await json<{ requests: unknown[] }>(await request.get(`/api/v1/requests?host=${theirs}`, { headers: api.headers }));
      expect(listed.requests).toEqual([]);
    });

    await test.step('a denied request leaves the host’s config version as it was', async () => {
      const before = await json<{ version: number }>(await request.get(`/api/v1/hosts/${laptop}/config`, { headers: api.headers }));
      const asked = await me.request.post('/api/v1/requests', { data: { host: laptop, kind: 'install', package: 'cowsay', reason: 'cows make standups fun' } });
      expect(asked.status(), await asked.text()).toBe(201);
      const { id } = (await asked.json()) as { id: string };
      await ops.goto(`/requests/${id}`);
      await ops.getByRole('button', { name: 'Deny' }).click();
      await expect(ops.getByRole('main').getByRole('alert')).toHaveText('Tell the requester why');
      await ops.getByLabel('Message to Erin Employee').fill('Not on work machines, sorry');
      await ops.getByRole('button', { name: 'Deny' }).click();
      await expect(ops.getByTestId('request-stepper')).toHaveAttribute('data-status', 'denied');
      await expect(ops.getByTestId('request-denial')).toContainText('Not on work machines, sorry');
      const after = await json<{ version: number; packages: string[] }>(await request.get(`/api/v1/hosts/${laptop}/config`, { headers: api.headers }));
      expect(after.version).toBe(before.version);
      expect(after.packages).not.toContain('cowsay');
    });

    await test.step('a never-allowed package is refused in the dialog with the policy’s reason', async () => {
      const set = await request.put('/api/v1/request-policies', { headers: api.headers, data: { policies: [{ package: 'htop', rule: 'never-allowed', reason: 'use the monitoring dashboard instead' }] } });
      expect(set.status(), await set.text()).toBe(200);
      const before = (await json<{ requests: unknown[] }>(await request.get('/api/v1/requests?status=all', { headers: api.headers }))).requests.length;
      await me.goto('/my-machines');
      await me.getByTestId(`machine-${laptop}`).getByRole('button', { name: 'Request software' }).click();
      const dialog = me.getByRole('dialog');
      await dialog.getByLabel('Search packages').fill('htop');
      await dialog.getByRole('option', { name: /^htop/ }).click();
      await dialog.getByLabel('Why do you need it?').fill('To watch the load');
      await dialog.getByRole('button', { name: 'Send request' }).click();
      await expect(dialog.getByRole('alert')).toHaveText('htop may not be installed: use the monitoring dashboard instead');
      await expect(me).toHaveURL(/\/my-machines$/);
      await screenshotBoth(me, 'requests-never-allowed', false);
      expect((await json<{ requests: unknown[] }>(await request.get('/api/v1/requests?status=all', { headers: api.headers }))).requests.length).toBe(before);
    });

    await test.step('the manager reads the request numbers on the overview and the requests page', async () => {
      const stats = await json<{ open: number; approvalRate: number | null }>(await request.get('/api/v1/requests/stats', { headers: api.headers }));
      const boss = await signedInPage(browser, manager);
      await boss.goto('/');
      await expect(boss.getByRole('heading', { name: 'Fleet overview' })).toBeVisible();
      await expect(boss.getByTestId('stat-open')).toHaveText(String(stats.open));
      await expect(boss.getByTestId('stat-approval-rate')).toHaveText(`${Math.round((stats.approvalRate ?? 0) * 100)} %`);
      await screenshotBoth(boss, 'requests-overview-manager');
      await boss.goto('/requests?status=all');
      await expect(boss.getByTestId(`request-row-${requestId}`)).toContainText('live');
      // Read-only: nothing to select or approve.
      await expect(boss.getByRole('checkbox')).toHaveCount(0);
      await boss.goto(`/requests/${requestId}`);
      await expect(boss.getByTestId('request-stepper')).toHaveAttribute('data-status', 'live');
      await expect(boss.getByRole('button', { name: 'Comment' })).toHaveCount(0);
    });

    await test.step('a change in words is written into the host module by the operator, then approved', async () => {
      await me.goto('/my-machines');
      await me.getByTestId(`machine-${laptop}`).getByRole('button', { name: 'Request software' }).click();
      const dialog = me.getByRole('dialog');
      await dialog.getByRole('tab', { name: 'Something else' }).click();
      await dialog.getByLabel('What do you need?').fill('Please set up the office printer');
      await dialog.getByLabel('Why do you need it?').fill('I print contracts');
      await dialog.getByRole('button', { name: 'Send request' }).click();
      await expect(me).toHaveURL(/\/requests\/[0-9a-f-]{36}$/);
      const id = me.url().split('/').pop() as string;
      const before = await json<{ version: number }>(await request.get(`/api/v1/hosts/${laptop}/config`, { headers: api.headers }));

      await ops.goto(`/requests/${id}`);
      await expect(ops.getByRole('button', { name: 'Approve', exact: true })).toBeDisabled();
      await ops.getByRole('button', { name: 'Edit & approve…' }).click();
      const editor = ops.getByTestId('edit-and-approve').locator('.cm-content');
      await expect(editor).toBeVisible();
      await editor.click();
      await ops.keyboard.press('Control+End');
      await ops.keyboard.type('\n# office printer, as asked\n');
      await screenshotBoth(ops, 'requests-edit-module', false);
      await ops.getByRole('button', { name: 'Approve with this module' }).click();
      await expect(ops.getByTestId('request-stepper')).not.toHaveAttribute('data-status', 'submitted');
      const after = await json<{ version: number; module: string }>(await request.get(`/api/v1/hosts/${laptop}/config`, { headers: api.headers }));
      expect(after.version).toBe(before.version + 1);
      expect(after.module).toContain('# office printer, as asked');
    });

    await test.step('the same package for two employees is approved in one go from the queue', async () => {
      const colleagueToken = await createToken(request, colleague, ['requests.create']);
      const mine = await me.request.post('/api/v1/requests', { data: { host: laptop, kind: 'install', package: 'jq', reason: 'reading JSON logs' } });
      const theirsAsked = await request.post('/api/v1/requests', { headers: { authorization: `Bearer ${colleagueToken}` }, data: { host: theirs, kind: 'install', package: 'jq', reason: 'same here' } });
      expect([mine.status(), theirsAsked.status()]).toEqual([201, 201]);
      const ids = [((await mine.json()) as { id: string }).id, ((await theirsAsked.json()) as { id: string }).id];
      await ops.goto('/requests');
      await ops.getByRole('button', { name: 'Select the 2 requests for jq' }).click();
      await expect(ops.getByRole('button', { name: 'Approve selected (2)' })).toBeVisible();
      await screenshotBoth(ops, 'requests-batch', false);
      await ops.getByRole('button', { name: 'Approve selected (2)' }).click();
      // Two approvals, each writing a config version and starting a build and a deployment: slow on a busy 2-core machine.
      await expect(ops.getByRole('main').getByRole('status')).toHaveText('Approved 2 of 2', { timeout: 60_000 });
      for (const id of ids) await expect(ops.getByTestId(`request-row-${id}`)).toHaveCount(0);
      for (const id of ids) {
        const view = await json<{ status: string }>(await request.get(`/api/v1/requests/${id}`, { headers: api.headers }));
        expect(view.status).not.toBe('submitted');
      }
    });

    await test.step('an admin keeps the policies under Settings → Request policies', async () => {
      const admin = await signedInPage(browser, { ...ADMIN, name: 'Admin' });
      await admin.goto('/settings');
      await admin.getByRole('link', { name: 'Request policies' }).click();
      await expect(admin.getByLabel('Rule for htop')).toHaveValue('never-allowed');
      await expect(admin.getByLabel('Reason for htop')).toHaveValue('use the monitoring dashboard instead');
      await admin.getByLabel('Search packages to add a policy').fill('tree');
      await admin.getByRole('option', { name: /^tree/ }).click();
      await expect(admin.getByLabel('Rule for tree')).toHaveValue('pre-approved');
      await admin.getByLabel('Reason for tree').fill('harmless');
      await admin.getByRole('button', { name: 'Save policies' }).click();
      await expect(admin.getByRole('main').getByRole('status')).toHaveText('Saved.');
      const saved = await json<{ policies: { package: string; rule: string }[] }>(await request.get('/api/v1/request-policies', { headers: api.headers }));
      expect(saved.policies.map((p) => `${p.package}:${p.rule}`)).toEqual(['htop:never-allowed', 'tree:pre-approved']);
      await screenshotBoth(admin, 'requests-policies');
    });
  } finally {
    run.child.kill('SIGTERM');
    await run.exited;
    // A Nix command the agent started may still be finishing in its store root: retry what it refills.
    await rm(stateDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  }
});
