import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { ADMIN } from './constants';
import { agentProcess as agent } from './agent-process';
import { createToken, signInViaApi, unique } from './helpers';

test('an enrolled agent goes online live, gets a built system deployed from the UI, and the pages follow it live', async ({ page, request, baseURL }) => {
  const token = await createToken(request, ADMIN, ['hosts.write', 'fleet.read', 'builds.run', 'deployments.write']);
  const headers = { authorization: `Bearer ${token}` };
  const host = unique('agt');
  const created = await request.post('/api/v1/hosts', { headers, data: { name: host } });
  const { enrollToken } = (await created.json()) as { enrollToken: string };
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'flotilla-e2e-agent-'));
  try {
    await signInViaApi(page.context(), ADMIN.email, ADMIN.password);
    await page.goto(`/hosts/${host}`);
    await expect(page.getByTestId('host-status')).toContainText('never seen');

    const enrol = agent(['enroll', '--server', baseURL as string, '--token', enrollToken, '--state-dir', stateDir]);
    expect(await enrol.exited, enrol.output()).toBe(0);
    const run = agent(['run', '--state-dir', stateDir, '--store-root', path.join(stateDir, 'root')]);
    try {
      // No reload: the page follows the host's event stream.
      await expect(page.getByTestId('host-status')).toContainText('online', { timeout: 20_000 });
      await expect(page.getByText('Agent', { exact: true }).locator('..')).toContainText('0.1.0');

      const build = (await (await request.post(`/api/v1/hosts/${host}/builds`, { headers })).json()) as { buildId: string };
      await expect.poll(async () => ((await (await request.get(`/api/v1/builds/${build.buildId}`, { headers })).json()) as { status: string }).status, { timeout: 60_000 }).toBe('succeeded');
      const { storePath } = (await (await request.get(`/api/v1/builds/${build.buildId}`, { headers })).json()) as { storePath: string };

      // Deploy from the host page, through the deployment dialog, and follow it on the deployment page.
      await page.reload();
      await page.getByRole('button', { name: 'Deploy' }).click();
      const dialog = page.getByRole('dialog', { name: 'Deploy to 1 host' });
      await expect(dialog.getByTestId('deploy-system')).toHaveText(storePath);
      await dialog.getByRole('button', { name: 'Start deployment' }).click();
      await expect(page).toHaveURL(/\/deployments\/[0-9a-f-]{36}$/);
      await expect(page.getByTestId('deployment-status')).toHaveText('succeeded', { timeout: 30_000 });
      await expect(page.getByTestId(`target-${host}`)).toContainText('succeeded');
      await page.screenshot({ path: 'test-results/screens/deployment.png', fullPage: true });

      await page.goto(`/hosts/${host}`);
      await expect(page.getByTestId('activations')).toContainText('succeeded');
      await expect(page.getByText('Current system', { exact: true }).locator('..')).toContainText(storePath);
      await expect(page.getByRole('button', { name: 'Deploy' })).toHaveCount(0);
      await page.screenshot({ path: 'test-results/screens/host-deployed.png', fullPage: true });

      page.once('dialog', (dialog) => dialog.accept());
      await page.getByRole('button', { name: 'Revoke agent credential' }).click();
      await expect(page.getByText('Not enrolled yet.')).toBeVisible();
      await expect.poll(() => run.output(), { timeout: 15_000 }).toMatch(/HTTP 401/);
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
    }
  } finally {
    await rm(stateDir, { recursive: true, force: true });
  }
});
