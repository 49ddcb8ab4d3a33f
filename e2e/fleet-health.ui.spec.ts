// Fleet health for managers (issue 8, "must show"): real agents bring some hosts online
// and, once stopped, leave others offline; a viewer reads the overview, follows the
// Offline card to the host list filtered to exactly the offline hosts, exports them as
// CSV (the file has exactly those rows), keeps the filter as a saved filter, and finds
// no write action anywhere: no buttons for it, and 403 from the write APIs.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { agentProcess as agent } from './agent-process';
import { ADMIN } from './constants';
import { createToken, signInViaApi, unique } from './helpers';

const SCREENS = 'test-results/screens';

type Summary = { name: string; status: 'online' | 'offline' | 'never-seen'; agentVersion: string | null; storeFreeBytes: number | null };

async function hostsMatching(request: APIRequestContext, headers: Record<string, string>, query: string): Promise<Summary[]> {
  const res = await request.get(`/api/v1/hosts?pageSize=500&${query}`, { headers });
  expect(res.status(), await res.text()).toBe(200);
  return ((await res.json()) as { hosts: Summary[] }).hosts;
}

/** RFC 4180: quoted fields may hold commas, quotes ("") and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field.replace(/\r$/, ''));
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field || row.length) rows.push([...row, field]);
  return rows;
}

async function screenshotBoth(page: Page, name: string) {
  await page.screenshot({ path: `${SCREENS}/${name}.png`, fullPage: true });
  await page.emulateMedia({ colorScheme: 'dark' });
  await expect(page.locator('html')).toHaveClass(/dark/);
  await page.screenshot({ path: `${SCREENS}/${name}-dark.png`, fullPage: true });
  await page.emulateMedia({ colorScheme: 'light' });
  await expect(page.locator('html')).not.toHaveClass(/dark/);
}

test('a viewer follows the Offline card to exactly the offline hosts, exports them as CSV, and cannot change anything', async ({ browser, request, baseURL }) => {
  test.setTimeout(180_000);
  const token = await createToken(request, ADMIN, ['hosts.write', 'users.manage', 'fleet.read']);
  const headers = { authorization: `Bearer ${token}` };
  const prefix = unique('fh');
  const names = { online: [`${prefix}-on-1`, `${prefix}-on-2`], offline: [`${prefix}-off-1`, `${prefix}-off-2`], never: [`${prefix}-new-1`] };
  const stateDirs: string[] = [];
  const running: ReturnType<typeof agent>[] = [];

  try {
    await test.step('the admin adds hosts; real agents bring four online, two of them stop again', async () => {
      const agents = new Map<string, ReturnType<typeof agent>>();
      for (const name of [...names.online, ...names.offline, ...names.never]) {
        const created = await request.post('/api/v1/hosts', { headers, data: { name, tags: ['fleet-e2e'] } });
        expect(created.status(), await created.text()).toBe(201);
        if (names.never.includes(name)) continue;
        const { enrollToken } = (await created.json()) as { enrollToken: string };
        const stateDir = await mkdtemp(path.join(os.tmpdir(), 'flotilla-e2e-fleet-'));
        stateDirs.push(stateDir);
        const enrol = agent(['enroll', '--server', baseURL as string, '--token', enrollToken, '--state-dir', stateDir]);
        expect(await enrol.exited, enrol.output()).toBe(0);
        const run = agent(['run', '--state-dir', stateDir, '--store-root', path.join(stateDir, 'root')]);
        running.push(run);
        agents.set(name, run);
      }
      // A host counts as up once it is online and its first heartbeat (free store space) arrived.
      const mine = async () =>
        Object.fromEntries((await hostsMatching(request, headers, `q=${prefix}`)).map((h) => [h.name, h.status === 'online' && h.storeFreeBytes === null ? 'connecting' : h.status]));
      await expect
        .poll(mine, { timeout: 30_000, message: [...agents.values()].map((a) => a.output()).join('\n') })
        .toEqual(Object.fromEntries([...names.online, ...names.offline].map((n) => [n, 'online']).concat(names.never.map((n) => [n, 'never-seen']))));
      for (const name of names.offline) {
        const run = agents.get(name) as ReturnType<typeof agent>;
        run.child.kill('SIGTERM');
        await run.exited;
      }
      await expect
        .poll(mine, { timeout: 20_000 })
        .toEqual(
          Object.fromEntries([
            ...names.online.map((n) => [n, 'online']),
            ...names.offline.map((n) => [n, 'offline']),
            ...names.never.map((n) => [n, 'never-seen']),
          ]),
        );
    });

    const viewer = { email: `${unique('viewer')}@e2e.example.com`, password: 'viewer-password-fleet' };
    const invited = await request.post('/api/v1/users', { headers, data: { ...viewer, name: 'Vera Viewer', role: 'viewer' } });
    expect(invited.status(), await invited.text()).toBe(201);
    const ctx = await browser.newContext({ acceptDownloads: true });
    await signInViaApi(ctx, viewer.email, viewer.password);
    const page = await ctx.newPage();
    // Every offline host of the organisation (other tests may have left some), as the API lists them.
    const offline = (await hostsMatching(ctx.request, {}, 'status=offline')).map((h) => h.name).sort();
    expect(offline).toEqual(expect.arrayContaining(names.offline));
    for (const name of [...names.online, ...names.never]) expect(offline).not.toContain(name);

    await test.step('the viewer reads the overview: the cards show the fleet counts, with charts and agent versions', async () => {
      await page.goto('/');
      await expect(page.getByRole('heading', { name: 'Fleet overview' })).toBeVisible();
      const { counts, agents } = (await (await ctx.request.get('/api/v1/fleet/overview')).json()) as {
        counts: Record<string, number>;
        agents: { version: string | null; hosts: number }[];
      };
      expect(counts.offline).toBe(offline.length);
      const cards = page.getByTestId('fleet-counts');
      for (const [label, key] of [
        ['Online', 'online'],
        ['Offline', 'offline'],
        ['Never seen', 'neverSeen'],
        ['Drifted', 'drifted'],
        ['Low disk', 'lowDisk'],
      ] as const) {
        await expect(cards.getByRole('link', { name: `${label}: ${counts[key]}`, exact: true })).toBeVisible();
      }
      const versions = page.getByTestId('agent-versions');
      for (const a of agents) await expect(versions.getByRole('link', { name: new RegExp(`^${(a.version ?? 'none').replace(/\./g, '\\.')}.*${a.hosts}$`) })).toBeVisible();
      await expect(versions.getByRole('link', { name: /^0\.1\.0/ })).toHaveAttribute('href', '/hosts?agent=0.1.0');
      for (const title of ['Online hosts', 'Drift', 'Deployments per day']) await expect(page.getByRole('heading', { name: title, exact: true })).toBeVisible();
      await expect(page.getByTestId('chart-deployments')).toBeVisible();
      await screenshotBoth(page, 'fleet-overview');
    });

    await test.step('the Offline card opens the host list filtered to exactly the offline hosts', async () => {
      await page.getByTestId('fleet-counts').getByRole('link', { name: /^Offline: / }).click();
      await expect(page).toHaveURL(/\/hosts\?status=offline$/);
      await expect(page.getByLabel('Status')).toHaveValue('offline');
      const rows = page.locator('[data-testid^="host-row-"]');
      await expect(rows).toHaveCount(offline.length);
      const shown = (await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')?.replace('host-row-', '') ?? ''))).sort();
      expect(shown).toEqual(offline);
      await expect(page.getByTestId(`host-row-${names.offline[0]}`)).toContainText('offline');
      await expect(page.getByTestId(`host-row-${names.offline[0]}`)).toContainText('0.1.0');
      // The config each host is on (version 1, from its creation).
      await expect(page.getByTestId(`host-row-${names.offline[0]}`)).toContainText('v1');
      await expect(page.getByRole('heading', { name: 'Hosts' })).toBeVisible();
      await expect(page.getByText(`${offline.length} ${offline.length === 1 ? 'host' : 'hosts'} match`)).toBeVisible();
      await screenshotBoth(page, 'fleet-hosts-offline');
    });

    await test.step('Export CSV downloads exactly the offline hosts', async () => {
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
      expect(download.suggestedFilename()).toMatch(/^hosts-\d{4}-\d{2}-\d{2}\.csv$/);
      const [header, ...rows] = parseCsv(await readFile(await download.path(), 'utf8'));
      expect(header?.slice(0, 2)).toEqual(['name', 'status']);
      const col = (name: string) => (header as string[]).indexOf(name);
      expect(rows.map((r) => r[col('name')]).sort()).toEqual(offline);
      expect(new Set(rows.map((r) => r[col('status')]))).toEqual(new Set(['offline']));
      const mine = rows.find((r) => r[col('name')] === names.offline[0]) as string[];
      expect(mine[col('agent_version')]).toBe('0.1.0');
      expect(mine[col('tags')]).toBe('fleet-e2e');
      expect(Number(mine[col('store_free_bytes')])).toBeGreaterThan(0);
    });

    await test.step('the viewer keeps the filter as a saved filter, opens it and deletes it', async () => {
      await page.getByRole('button', { name: 'Save this filter' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('Name').fill(`Offline ${prefix}`);
      await dialog.getByRole('button', { name: 'Save filter' }).click();
      await expect(dialog).toHaveCount(0);
      const chip = page.getByTestId('saved-filters').getByRole('link', { name: `Offline ${prefix}` });
      await expect(chip).toHaveAttribute('aria-current', 'true');
      await page.goto('/hosts');
      await expect(chip).not.toHaveAttribute('aria-current', 'true');
      await chip.click();
      await expect(page).toHaveURL(/\/hosts\?status=offline$/);
      await expect(page.locator('[data-testid^="host-row-"]')).toHaveCount(offline.length);
      page.once('dialog', (d) => d.accept());
      await page.getByRole('button', { name: `Delete saved filter Offline ${prefix}` }).click();
      await expect(chip).toHaveCount(0);
      const saved = (await (await ctx.request.get('/api/v1/saved-filters')).json()) as { filters: { name: string }[] };
      expect(saved.filters.map((f) => f.name)).not.toContain(`Offline ${prefix}`);
    });

    await test.step('the host list filters by agent version and sorts by store free space', async () => {
      await page.goto(`/hosts?q=${prefix}`);
      await page.getByLabel('Agent version').selectOption('none');
      await page.getByRole('button', { name: 'Apply' }).click();
      await expect(page).toHaveURL(/agent=none/);
      await expect(page.locator('[data-testid^="host-row-"]')).toHaveCount(names.never.length);
      await expect(page.getByTestId(`host-row-${names.never[0]}`)).toBeVisible();
      await page.goto(`/hosts?q=${prefix}`);
      await page.getByRole('link', { name: 'Store free' }).click();
      await expect(page).toHaveURL(/sort=storeFree/);
      // The never-seen host has reported no free space: last when sorting by it.
      await expect(page.locator('[data-testid^="host-row-"]').last()).toHaveAttribute('data-testid', `host-row-${names.never[0]}`);
    });

    await test.step('no write action is offered to the viewer, and the write APIs answer 403', async () => {
      for (const url of ['/', '/hosts', `/hosts?status=offline`, `/hosts/${names.offline[0]}`, `/hosts/${names.online[0]}`]) {
        await page.goto(url);
        const main = page.getByRole('main');
        // The page has drawn before the absence of write controls means anything.
        await expect(main.getByRole('heading', { level: 1 })).toBeVisible();
        await expect(main.getByRole('link', { name: 'New host' })).toHaveCount(0);
        await expect(main.getByRole('checkbox')).toHaveCount(0);
        await expect(main.getByRole('button', { name: /deploy|build|edit|retire|revoke|enrol|rename|add tags|^save$/i })).toHaveCount(0);
      }
      await page.goto(`/hosts/${names.offline[0]}/config`);
      await expect(page.getByTestId('nix-editor')).toBeVisible();
      await expect(page.getByRole('button', { name: 'Save', exact: true })).toHaveCount(0);

      const host = names.online[0] as string;
      const writes: [string, string, unknown][] = [
        ['POST', '/api/v1/hosts', { name: `${prefix}-sneaky` }],
        ['PATCH', `/api/v1/hosts/${host}`, { tags: ['hacked'] }],
        ['DELETE', `/api/v1/hosts/${host}`, undefined],
        ['PUT', `/api/v1/hosts/${host}/config`, { module: '{ }', baseVersion: 1 }],
        ['POST', `/api/v1/hosts/${host}/builds`, {}],
        ['POST', `/api/v1/hosts/${host}/enroll-token`, {}],
        ['POST', '/api/v1/deployments', { agents: { [host]: '/nix/store/00000000000000000000000000000000-nixos-system' } }],
        ['POST', '/api/v1/bulk/hosts', { hosts: [host], addTags: ['hacked'] }],
      ];
      for (const [method, url, data] of writes) {
        const res = await ctx.request.fetch(url, { method, data });
        expect(res.status(), `${method} ${url}: ${await res.text()}`).toBe(403);
      }
      expect((await request.get(`/api/v1/hosts/${prefix}-sneaky`, { headers })).status()).toBe(404);
      const after = (await hostsMatching(request, headers, `q=${host}`)).find((h) => h.name === host) as Summary & { tags: string[] };
      expect(after.tags).toEqual(['fleet-e2e']);
    });
    await ctx.close();
  } finally {
    for (const run of running) if (run.child.exitCode === null) run.child.kill('SIGTERM');
    await Promise.all(running.map((r) => r.exited));
    await Promise.all(stateDirs.map((d) => rm(d, { recursive: true, force: true })));
  }
});
