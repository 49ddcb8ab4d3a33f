// Declared state and pre-switch decisions through the UI, with a real agent on a simulated
// host and real Nix builds of the stand-in: the host module declares a directory unit and a
// check that finds an error with two resolutions. An operator deploys; the target waits; a
// viewer sees the inbox without a way to decide; the operator picks a resolution on the
// Decisions page; the agent carries it out and switches; the State tab lists the unit and
// the snapshot taken before the switch; files changed afterwards come back byte for byte
// from the Restore button.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect, test, type APIRequestContext, type Browser, type Page } from '@playwright/test';
import { agentProcess } from './agent-process';
import { ADMIN } from './constants';
import { createToken, signInViaApi, unique } from './helpers';

const SCREENS = 'test-results/screens';

type Person = { email: string; password: string };

async function member(request: APIRequestContext, headers: Record<string, string>, role: 'operator' | 'viewer'): Promise<Person> {
  const person = { email: `${unique(role)}@e2e.example.com`, password: `${role}-password-state` };
  const res = await request.post('/api/v1/users', { headers, data: { ...person, name: `State ${role}`, role } });
  expect(res.status(), await res.text()).toBe(201);
  return person;
}

async function signedInPage(browser: Browser, who: Person) {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  await signInViaApi(context, who.email, who.password);
  return context.newPage();
}

const shot = (page: Page, name: string) => page.screenshot({ path: `${SCREENS}/${name}.png`, fullPage: true });

/** Every file under a directory with its bytes (directories as such), for a byte-for-byte comparison. */
async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const file = path.join(entry.parentPath, entry.name);
    out[path.relative(dir, file)] = entry.isFile() ? (await readFile(file)).toString('base64') : 'dir';
  }
  return out;
}

// The check finds an outdated index until one of its resolutions ran; `resolve <id>` records which.
const check = (dir: string) => `
if [ "$1" = resolve ]; then printf %s "$2" > ${dir}/resolved; exit 0; fi
if [ -e ${dir}/resolved ]; then exit 0; fi
printf '%s\\n' '{"id": "index", "level": "error", "message": "The uploads index is at version 3; this system needs version 4.\\nReindexing reads every upload once.", "resolutions": [{"id": "reindex", "label": "Reindex now"}, {"id": "skip", "label": "Switch without reindexing"}]}'
printf '%s\\n' '{"id": "lock", "level": "warning", "message": "Uploads are refused while the index is rebuilt"}'
`;

test('a check waits for a decision made in the inbox, the State tab lists the snapshot, and Restore brings the files back byte for byte', async ({ browser, request, baseURL }) => {
  test.setTimeout(150_000);
  const token = await createToken(request, ADMIN, ['users.manage', 'hosts.write', 'fleet.read']);
  const admin = { authorization: `Bearer ${token}` };
  const operator = await member(request, admin, 'operator');
  const viewer = await member(request, admin, 'viewer');
  const opsHeaders = { authorization: `Bearer ${await createToken(request, operator, ['fleet.read', 'builds.run', 'deployments.write'])}` };
  const host = unique('stateful');

  const tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-e2e-state-'));
  const data = path.join(tmp, 'uploads');
  const checkDir = path.join(tmp, 'check');
  await mkdir(path.join(data, 'photos'), { recursive: true });
  await mkdir(checkDir);
  await writeFile(path.join(data, 'index.json'), '{"version": 3, "files": ["photos/cat.bin"]}\n');
  await writeFile(path.join(data, 'photos', 'cat.bin'), randomBytes(50_000));
  const original = await tree(data);

  const created = await request.post('/api/v1/hosts', { headers: admin, data: { name: host } });
  expect(created.status(), await created.text()).toBe(201);
  const { enrollToken } = (await created.json()) as { enrollToken: string };
  const module = `{ ... }: {
  networking.hostName = "${host}";
  flotilla.state.uploads = { kind = "directory"; path = "${data}"; keep = 3; };
  flotilla.checks.uploads = ''${check(checkDir)}'';
}`;
  const bare = unique('stateless');
  expect((await request.post('/api/v1/hosts', { headers: admin, data: { name: bare } })).status()).toBe(201);
  const saved = await request.put(`/api/v1/hosts/${host}/config`, { headers: admin, data: { module, baseVersion: 1, message: 'uploads with a check' } });
  expect(saved.status(), await saved.text()).toBe(200);

  const stateDir = path.join(tmp, 'agent');
  const enrol = agentProcess(['enroll', '--server', baseURL as string, '--token', enrollToken, '--state-dir', stateDir]);
  expect(await enrol.exited, enrol.output()).toBe(0);
  const run = agentProcess(['run', '--state-dir', stateDir, '--store-root', path.join(stateDir, 'root')]);
  try {
    await expect.poll(async () => ((await (await request.get(`/api/v1/hosts/${host}`, { headers: admin })).json()) as { online: boolean }).online, { timeout: 20_000 }).toBe(true);

    // The operator deploys the host's config (built first).
    const started = await request.post('/api/v1/deployments', { headers: opsHeaders, data: { hosts: [host], build: true, rollout: { canaries: 0, watchSeconds: 0 } } });
    expect(started.status(), await started.text()).toBe(201);
    const { id: deploymentId } = (await started.json()) as { id: string };

    const ops = await signedInPage(browser, operator);
    await test.step('the deployment waits, showing what the check found and the way to decide', async () => {
      await ops.goto(`/deployments/${deploymentId}`);
      await expect(ops.getByTestId(`target-${host}`)).toContainText('needs decision', { timeout: 60_000 }).catch((e: Error) => {
        throw new Error(`${e.message}\nagent:\n${run.output()}`);
      });
      const checks = ops.getByTestId(`checks-${host}`);
      await expect(checks).toContainText('1 error · 1 warning');
      await expect(checks.getByTestId('check-item-uploads:index')).toContainText('The uploads index is at version 3');
      await expect(checks.getByTestId('check-item-uploads:index')).toHaveAttribute('data-level', 'error');
      await shot(ops, 'state-deployment-waiting');
    });

    const viewerPage = await signedInPage(browser, viewer);
    await test.step('a viewer sees the inbox but cannot decide', async () => {
      await viewerPage.goto('/decisions');
      const card = viewerPage.getByTestId(`decision-${host}`);
      await expect(card).toContainText('The uploads index is at version 3');
      await expect(card).toContainText('Uploads are refused while the index is rebuilt');
      await expect(card.getByRole('radio')).toHaveCount(0);
      await expect(viewerPage.getByRole('button', { name: 'Decide' })).toHaveCount(0);
      await shot(viewerPage, 'state-decisions-viewer');
      await viewerPage.goto(`/deployments/${deploymentId}`);
      await expect(viewerPage.getByTestId(`checks-${host}`).getByRole('link', { name: 'Open in Decisions' })).toBeVisible();
    });

    await test.step('the operator decides in the inbox; a missing choice is refused in place', async () => {
      await ops.getByTestId(`checks-${host}`).getByRole('link', { name: 'Decide' }).click();
      await expect(ops).toHaveURL(/\/decisions$/);
      const card = ops.getByTestId(`decision-${host}`);
      // Message lines are kept as the check wrote them.
      await expect(card.getByTestId('check-item-uploads:index').locator('pre')).toHaveText('The uploads index is at version 3; this system needs version 4.\nReindexing reads every upload once.');
      const choice = card.getByTestId('choice-uploads:index');
      await expect(choice.getByRole('radio')).toHaveCount(3);
      await expect(choice.getByRole('radio', { name: 'Switch without reindexing' })).toBeVisible();
      await card.getByRole('button', { name: 'Decide' }).click();
      await expect(card.getByRole('alert')).toContainText('choose a resolution for uploads:index');
      await choice.getByRole('radio', { name: 'Reindex now' }).check();
      await shot(ops, 'state-decisions');
      await card.getByRole('button', { name: 'Decide' }).click();
      // Decided: the card says what was chosen until the host has moved on, then leaves the inbox.
      await expect(card.getByRole('button', { name: 'Decide' })).toHaveCount(0);
      await expect(ops.getByTestId(`decision-${host}`)).toHaveCount(0, { timeout: 30_000 });
      await expect(ops.getByText('Nothing is waiting for a decision')).toBeVisible();
    });

    await test.step('the agent runs the chosen resolution and the deployment finishes', async () => {
      await ops.goto(`/deployments/${deploymentId}`);
      await expect(ops.getByTestId('deployment-status')).toHaveText('succeeded', { timeout: 60_000 }).catch((e: Error) => {
        throw new Error(`${e.message}\nagent:\n${run.output()}`);
      });
      expect(await readFile(path.join(checkDir, 'resolved'), 'utf8')).toBe('reindex');
      const checks = ops.getByTestId(`checks-${host}`);
      await expect(checks.getByTestId(`decision-${host}`)).toContainText(`Decided: Reindex now by ${operator.email}`);
      await checks.locator('summary').click();
      await expect(checks.getByTestId('chosen-uploads:index')).toHaveText('Chosen: Reindex now');
      await shot(ops, 'state-deployment-decided');
    });

    let snapshotRow = ops.getByTestId('none');
    await test.step('the State tab lists the unit and the snapshot taken before the switch', async () => {
      await ops.goto(`/hosts/${host}`);
      await ops.getByRole('link', { name: 'State', exact: true }).click();
      await expect(ops).toHaveURL(new RegExp(`/hosts/${host}/state$`));
      const unit = ops.getByTestId('unit-uploads');
      await expect(unit).toContainText('Directory');
      await expect(unit).toContainText(data);
      await expect(unit).toContainText('Before every switch');
      await expect(unit.getByTestId('unit-keep')).toHaveText('3');
      await expect(unit).toContainText('left as is');
      const snapshots = ops.getByTestId('snapshots-uploads').locator('tbody tr');
      // The agent reports its store after the switch: wait for the report, not for a fixed time.
      await expect(async () => {
        await ops.reload();
        await expect(snapshots).toHaveCount(1, { timeout: 1000 });
      }).toPass({ timeout: 20_000 });
      snapshotRow = snapshots.first();
      await expect(snapshotRow).toContainText('before a switch');
      await expect(snapshotRow).toContainText('KiB');
      await expect(snapshotRow.getByRole('link', { name: deploymentId.slice(0, 8) })).toHaveAttribute('href', `/deployments/${deploymentId}`);
      await expect(ops.getByTestId('state-summary')).toContainText('1 state unit declared');
      await shot(ops, 'state-tab');
    });

    await test.step('files changed after the snapshot come back byte for byte from Restore', async () => {
      await writeFile(path.join(data, 'index.json'), '{"version": 4, "files": []}\n');
      await rm(path.join(data, 'photos', 'cat.bin'));
      await writeFile(path.join(data, 'photos', 'dog.bin'), 'written after the snapshot\n');
      expect(await tree(data)).not.toEqual(original);

      await snapshotRow.getByRole('button', { name: 'Restore' }).click();
      const dialog = ops.getByRole('dialog');
      await expect(dialog.getByRole('heading', { name: `Restore uploads on ${host}?` })).toBeVisible();
      await expect(dialog).toContainText('snapshotted first');
      await expect(dialog).toContainText('names no service');
      await shot(ops, 'state-restore-dialog');
      await dialog.getByRole('button', { name: 'Restore this snapshot' }).click();
      await expect(dialog).toHaveCount(0);
      // The page follows the restore by itself.
      const restore = ops.locator('[data-testid^="restore-"][data-status]').first();
      await expect(restore).toHaveAttribute('data-status', 'succeeded', { timeout: 30_000 });
      await expect(restore).toContainText(operator.email);
      expect(await tree(data)).toEqual(original);
      // What it replaced was kept: a second snapshot, taken before the restore.
      await expect(async () => {
        await ops.reload();
        await expect(ops.getByTestId('snapshots-uploads').locator('tbody tr')).toHaveCount(2, { timeout: 1000 });
      }).toPass({ timeout: 15_000 });
      await expect(ops.getByTestId('snapshots-uploads')).toContainText('before a restore');
      await shot(ops, 'state-restored');
      await ops.emulateMedia({ colorScheme: 'dark' });
      await expect(ops.locator('html')).toHaveClass(/dark/);
      await shot(ops, 'state-restored-dark');
    });

    await test.step('a viewer sees the State tab without a Restore button', async () => {
      await viewerPage.goto(`/hosts/${host}/state`);
      await expect(viewerPage.getByTestId('unit-uploads')).toContainText(data);
      await expect(viewerPage.getByTestId('snapshots-uploads').locator('tbody tr')).toHaveCount(2);
      await expect(viewerPage.locator('[data-testid^="restore-"][data-status="succeeded"]')).toHaveCount(1);
      await expect(viewerPage.getByRole('button', { name: 'Restore' })).toHaveCount(0);
      await shot(viewerPage, 'state-tab-viewer');
      // A host that declares nothing explains how to.
      await viewerPage.goto(`/hosts/${bare}/state`);
      await expect(viewerPage.getByText('This host declares no state')).toBeVisible();
      await expect(viewerPage.locator('pre')).toContainText('flotilla.state.uploads = {');
      await shot(viewerPage, 'state-tab-empty');
    });
  } finally {
    run.child.kill('SIGTERM');
    await run.exited;
    await rm(tmp, { recursive: true, force: true });
  }
});
