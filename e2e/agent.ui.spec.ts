import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { ADMIN } from './constants';
import { createToken, signInViaApi, unique } from './helpers';

const root = path.resolve(import.meta.dirname, '..');

function agent(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'agent/main.ts', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  return { child, output: () => output, exited: new Promise<number | null>((resolve) => child.on('exit', resolve)) };
}

test('a host enrolled with flotilla-agent against the running server shows up online, and goes offline when its credential is revoked', async ({ page, request, baseURL }) => {
  const token = await createToken(request, ADMIN, ['hosts.write', 'fleet.read']);
  const host = unique('agt');
  const created = await request.post('/api/v1/hosts', { headers: { authorization: `Bearer ${token}` }, data: { name: host } });
  const { enrollToken } = (await created.json()) as { enrollToken: string };
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'flotilla-e2e-agent-'));
  try {
    const enrol = agent(['enroll', '--server', baseURL as string, '--token', enrollToken, '--state-dir', stateDir]);
    expect(await enrol.exited, enrol.output()).toBe(0);
    const run = agent(['run', '--state-dir', stateDir, '--store-root', path.join(stateDir, 'root')]);
    try {
      await signInViaApi(page.context(), ADMIN.email, ADMIN.password);
      await expect
        .poll(async () => {
          await page.goto(`/hosts/${host}`);
          return page.getByRole('heading', { name: host }).locator('..').getByText('online').count();
        }, { timeout: 30_000 })
        .toBe(1);
      await expect(page.getByText('Agent', { exact: true }).locator('..')).toContainText('0.1.0');
      await page.screenshot({ path: 'test-results/screens/host-online.png', fullPage: true });

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
