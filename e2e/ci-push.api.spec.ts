// Moving from Cachix Deploy without changing CI: real Nix builds a system from the
// stand-in outside Flotilla, `nix copy` pushes it over HTTP with a cache.write token,
// `flotilla deploy deploy.json` sends it to a real agent on a deploy-only host, which
// activates it; the host shows in fleet health like any other.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import { agentProcess } from './agent-process';
import { ADMIN } from './constants';
import { createToken, signInViaApi, unique } from './helpers';

const root = path.resolve(import.meta.dirname, '..');
const exec = promisify(execFile);

/** What a CI runner's nix.conf would hold here: no substituters, a sandbox with a static shell. */
function ciNixConfig(): string {
  return [
    'experimental-features = nix-command flakes',
    'substituters =',
    'narinfo-cache-negative-ttl = 0',
    'sandbox = true',
    existsSync('/bin/busybox') ? 'sandbox-paths = /bin/sh=/bin/busybox' : '',
  ]
    .filter(Boolean)
    .join('\n');
}

test('a system built and pushed by CI is deployed with deploy.json to a deploy-only host', async ({ baseURL, browser }) => {
  test.setTimeout(240_000);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'flotilla-ci-push-'));
  const env = { ...process.env, NIX_CONFIG: ciNixConfig(), XDG_CACHE_HOME: path.join(dir, 'xdg') };
  const host = unique('ci');
  let agent: ReturnType<typeof agentProcess> | undefined;
  try {
    // The CI token: push and deploy, nothing else.
    const { request } = await browser.newContext({ baseURL });
    const token = await createToken(request, ADMIN, ['cache.write', 'deployments.write', 'fleet.read']);
    const admin = await createToken(request, ADMIN, ['hosts.write', 'fleet.read']);

    const created = await fetch(`${baseURL}/api/v1/hosts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: host, deployOnly: true }),
    });
    expect(created.status).toBe(201);
    const { enrollToken } = (await created.json()) as { enrollToken: string };
    const state = path.join(dir, 'agent');
    const enrol = agentProcess(['enroll', '--server', baseURL as string, '--token', enrollToken, '--state-dir', state]);
    expect(await enrol.exited, enrol.output()).toBe(0);
    agent = agentProcess(['run', '--state-dir', state, '--store-root', path.join(dir, 'root')]);

    // CI: `nix build` outside Flotilla…
    const expr = `((builtins.getFlake "path:${root}/nix/standin").lib.nixosSystem { modules = [ ({ pkgs, ... }: { networking.hostName = "${host}"; environment.systemPackages = [ pkgs.hello ]; }) ]; }).config.system.build.toplevel`;
    const built = await exec('nix', ['build', '--impure', '--json', '--no-link', '--expr', expr], { env });
    const system = (JSON.parse(built.stdout) as { outputs: { out: string } }[])[0]?.outputs.out as string;
    expect(system).toMatch(new RegExp(`^/nix/store/[a-z0-9]{32}-nixos-system-${host}`));

    // …`nix copy` to Flotilla's cache with the token in netrc, as with any HTTP cache…
    const netrc = path.join(dir, 'netrc');
    await writeFile(netrc, `machine ${new URL(baseURL as string).hostname} password ${token}\n`, { mode: 0o600 });
    await exec('nix', ['copy', '--option', 'netrc-file', netrc, '--to', `${baseURL}/cache`, system], { env });

    // …and `flotilla deploy` with Cachix Deploy's deploy.json.
    await writeFile(path.join(dir, 'deploy.json'), JSON.stringify({ agents: { [host]: system } }));
    const deploy = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'deploy', path.join(dir, 'deploy.json')], {
      cwd: root,
      env: { ...process.env, FLOTILLA_SERVER: baseURL as string, FLOTILLA_TOKEN: token },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    deploy.stdout.on('data', (d) => (output += d));
    deploy.stderr.on('data', (d) => (output += d));
    const code = await new Promise<number | null>((resolve) => deploy.on('exit', resolve));
    expect(code, `${output}\n--- agent ---\n${agent.output()}`).toBe(0);
    expect(output).toMatch(/1\/1 hosts succeeded/);

    // The agent activated it, and the host is in fleet health like any other.
    const view = (await (await fetch(`${baseURL}/api/v1/hosts/${host}`, { headers: { authorization: `Bearer ${admin}` } })).json()) as { currentSystem: string; deployOnly: boolean };
    expect(view.currentSystem).toBe(system);
    expect(view.deployOnly).toBe(true);
    const context = await browser.newContext({ baseURL });
    await signInViaApi(context, ADMIN.email, ADMIN.password);
    const page = await context.newPage();
    await page.goto(`/hosts/${host}`);
    await expect(page.getByText('Deploy-only', { exact: true }).first()).toBeVisible();
    await expect(page.getByText(path.basename(system)).first()).toBeVisible();
    await expect(page.getByRole('button', { name: 'Build', exact: true })).toHaveCount(0);
    await page.goto(`/hosts?q=${host}`);
    await expect(page.getByRole('row', { name: new RegExp(host) })).toContainText('online');
    await context.close();
  } finally {
    agent?.child.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
});
