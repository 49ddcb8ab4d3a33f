// The README's Quick start, word for word, on a first start: the setup page, Hosts → New
// host, the simulated-host commands the page shows pasted into a shell (the agent really
// runs, through `npx flotilla-agent`, in the server's data directory), a package added,
// Save, Build, Deploy, and the host running the new system. Nothing is done through the
// API or by hand that the pages do not show.
import { spawn } from 'node:child_process';
import { expect, test } from '@playwright/test';
import { AGENT_ENV } from './agent-process';
import { startFreshInstance } from './fresh-instance';

const ME = { org: 'Walkthrough IT', name: 'Ada Admin', email: 'ada@walkthrough.example.com', password: 'walkthrough-password-1' };

/** What a person does with copied commands: paste them into a terminal (a shell of its own, stopped with its process group). */
function paste(commands: string) {
  const child = spawn('sh', ['-e', '-c', commands], { env: AGENT_ENV, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return {
    output: () => output,
    /** Ctrl-C for the whole pipeline: sh, npx and the agent. */
    stop: async () => {
      if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGTERM');
      await exited;
    },
  };
}

test('the README walkthrough: setup, a new host simulated with the commands the page shows, a changed config built and deployed', async ({ browser }) => {
  test.setTimeout(420_000);
  const flotilla = await startFreshInstance();
  const context = await browser.newContext({ baseURL: flotilla.url, permissions: ['clipboard-read', 'clipboard-write'] });
  const page = await context.newPage();
  let agent: ReturnType<typeof paste> | undefined;
  try {
    await test.step('"with no users yet it offers a one-time setup page", which signs the admin in', async () => {
      await page.goto('/');
      await expect(page).toHaveURL(/\/setup$/);
      // A first try with a blank organisation name (spaces pass the browser's check, not the server's):
      // the form says why and keeps what was typed.
      await page.getByLabel('Organisation').fill('   ');
      await page.getByLabel('Your name').fill(ME.name);
      await page.getByLabel('E-mail').fill(ME.email);
      await page.getByLabel('Password').fill(ME.password);
      await page.getByRole('button', { name: 'Create organisation' }).click();
      await expect(page.getByText('Name your organisation')).toBeVisible();
      await expect(page.getByLabel('Your name')).toHaveValue(ME.name);
      await expect(page.getByLabel('E-mail')).toHaveValue(ME.email);
      await page.getByLabel('Organisation').fill(ME.org);
      await page.getByLabel('Password').fill(ME.password);
      await page.screenshot({ path: 'test-results/screens/walkthrough-setup.png', fullPage: true });
      await page.getByRole('button', { name: 'Create organisation' }).click();
      await expect(page).toHaveURL(new RegExp(`^${flotilla.url}/$`));
      await expect(page.getByTestId('current-user')).toHaveText(ME.name);
    });

    const host = 'web-01';
    let commands = '';
    await test.step('Hosts → New host shows the enroll token and the commands, each with a Copy button', async () => {
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Hosts' }).click();
      await expect(page).toHaveURL(/\/hosts$/);
      await page.getByRole('link', { name: 'New host' }).first().click();
      await expect(page).toHaveURL(/\/hosts\/new$/);
      await page.getByLabel('Name', { exact: true }).fill(host);
      await page.getByRole('button', { name: 'Add host' }).click();
      await expect(page.getByTestId('enroll-token')).toHaveValue(/^enr_/);
      const token = await page.getByTestId('enroll-token').inputValue();
      await expect(page.getByTestId('enroll-command')).toContainText(`flotilla-agent enroll --server ${flotilla.url} --token ${token}`);
      await page.screenshot({ path: 'test-results/screens/walkthrough-new-host.png', fullPage: true });
      await page.getByRole('button', { name: 'Copy simulated host commands' }).click();
      await expect(page.getByRole('button', { name: 'Copy simulated host commands' })).toHaveText('Copied');
      commands = await page.evaluate(() => navigator.clipboard.readText());
      expect(commands).toBe(await page.getByTestId('simulate-commands').textContent());
      expect(commands).toContain(`npx flotilla-agent enroll --server ${flotilla.url} --token ${token} --state-dir `);
      expect(commands).toContain('npx flotilla-agent run --state-dir ');
    });

    await test.step('the commands, pasted into a shell, enrol the simulated host and run its agent: it goes online', async () => {
      agent = paste(commands);
      await expect.poll(() => agent?.output(), { timeout: 60_000 }).toContain(`enrolled as ${host}`);
      await page.getByRole('link', { name: 'Open host' }).click();
      await expect(page.getByTestId('host-status')).toContainText('online', { timeout: 30_000 });
    });

    await test.step('edit its configuration: add a package, Save, then Build from the saved notice', async () => {
      await page.getByRole('link', { name: 'Configuration' }).click();
      // The worker indexes the packages when it starts: until then a search finds nothing.
      await expect(async () => {
        await page.getByLabel('Search packages').fill('');
        await page.getByLabel('Search packages').fill('greet');
        await expect(page.getByRole('option', { name: /hello/ })).toBeVisible({ timeout: 2_000 });
      }).toPass({ timeout: 90_000 });
      await page.getByRole('option', { name: /hello/ }).click();
      await page.getByLabel('Change message').fill('Say hello');
      await page.getByRole('button', { name: 'Save' }).click();
      await expect(page.getByRole('status')).toContainText('Saved as version 2.');
      await page.screenshot({ path: 'test-results/screens/walkthrough-saved.png', fullPage: true });
      await page.getByRole('status').getByRole('button', { name: 'Build' }).click();
      await expect(page).toHaveURL(/\/builds\/[0-9a-f-]{36}$/);
      await expect(page.getByTestId('build-status')).toHaveText('succeeded', { timeout: 120_000 });
    });

    await test.step('Deploy from the build: the dialog with strategy and waves, then the deployment succeeds', async () => {
      const storePath = (await page.getByTestId('build-store-path').textContent()) ?? '';
      await page.getByRole('button', { name: 'Deploy' }).click();
      const dialog = page.getByRole('dialog', { name: 'Deploy to 1 host' });
      await expect(dialog.getByTestId('deploy-system')).toHaveText(storePath);
      await expect(dialog.getByTestId('preview-wave-0')).toContainText(host);
      await page.screenshot({ path: 'test-results/screens/walkthrough-deploy-dialog.png', fullPage: true });
      await dialog.getByRole('button', { name: 'Start deployment' }).click();
      await expect(page).toHaveURL(/\/deployments\/[0-9a-f-]{36}$/);
      await expect(page.getByTestId('deployment-status')).toHaveText('succeeded', { timeout: 90_000 });
      await page.goto(`/hosts/${host}`);
      await expect(page.getByText('Current system', { exact: true }).locator('..')).toContainText(storePath);
      await page.screenshot({ path: 'test-results/screens/walkthrough-deployed.png', fullPage: true });
    });
  } finally {
    await agent?.stop();
    await context.close();
    await flotilla.stop();
  }
});
