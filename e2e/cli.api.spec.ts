// The flotilla CLI against the running server, with a real agent on a simulated host.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { ADMIN } from './constants';
import { unique } from './helpers';

const root = path.resolve(import.meta.dirname, '..');

function run(entry: 'cli/main.ts' | 'agent/main.ts', args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return { child, stdout: () => stdout, stderr: () => stderr, exited: new Promise<number | null>((resolve) => child.on('exit', resolve)) };
}

test('flotilla login, build and deploy follow progress and exit with the outcome; bad deploy.json files are refused before anything is sent', async ({ baseURL }) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'flotilla-cli-'));
  const cliEnv = { FLOTILLA_CONFIG: path.join(dir, 'config.json') };
  const cli = (args: string[]) => run('cli/main.ts', args, cliEnv);
  try {
    const login = run('cli/main.ts', ['login', '--server', baseURL as string, '--email', ADMIN.email], { ...cliEnv, FLOTILLA_PASSWORD: ADMIN.password });
    expect(await login.exited, login.stderr()).toBe(0);
    expect(login.stdout()).toMatch(/logged in/);

    const host = unique('cli');
    const token = (await cli(['token', 'create', '--name', 'e2e', '--scopes', 'hosts.write,fleet.read']));
    expect(await token.exited, token.stderr()).toBe(0);
    const created = await fetch(`${baseURL}/api/v1/hosts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token.stdout().trim()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: host }),
    });
    const { enrollToken } = (await created.json()) as { enrollToken: string };
    const enrol = run('agent/main.ts', ['enroll', '--server', baseURL as string, '--token', enrollToken, '--state-dir', path.join(dir, 'agent')]);
    expect(await enrol.exited).toBe(0);
    const agent = run('agent/main.ts', ['run', '--state-dir', path.join(dir, 'agent'), '--store-root', path.join(dir, 'root')]);
    try {
      const build = cli(['build', host]);
      expect(await build.exited, build.stderr()).toBe(0);
      expect(build.stderr()).toMatch(/\[succeeded · done/);
      const storePath = build.stdout().trim().split('\n').at(-1) as string;
      expect(storePath).toMatch(new RegExp(`^/nix/store/[a-z0-9]{32}-nixos-system-${host}`));

      const hosts = cli(['hosts']);
      expect(await hosts.exited).toBe(0);
      expect(hosts.stdout()).toMatch(new RegExp(`${host}\\s+online`));

      await writeFile(path.join(dir, 'deploy.json'), JSON.stringify({ agents: { [host]: storePath } }));
      const deploy = cli(['deploy', path.join(dir, 'deploy.json')]);
      expect(await deploy.exited, deploy.stdout() + deploy.stderr()).toBe(0);
      expect(deploy.stdout()).toMatch(new RegExp(`${host}\\s+canary\\s+succeeded`));
      expect(deploy.stdout()).toMatch(/succeeded: 1\/1 hosts succeeded/);

      await writeFile(path.join(dir, 'async.json'), JSON.stringify({ agents: { [host]: storePath } }));
      const asyncDeploy = cli(['deploy', path.join(dir, 'async.json'), '--async']);
      expect(await asyncDeploy.exited).toBe(0);
      const id = /deployment (\S+) started/.exec(asyncDeploy.stdout())?.[1] as string;
      await expect.poll(async () => {
        const status = cli(['status', id]);
        await status.exited;
        return status.stdout();
      }, { timeout: 30_000 }).toMatch(/1\/1 hosts succeeded/);

      // A system whose activation fails: the host rolls back, the CLI says so and exits 1.
      const current = (await (await fetch(`${baseURL}/api/v1/hosts/${host}/config`, { headers: { authorization: `Bearer ${token.stdout().trim()}` } })).json()) as { version: number };
      const saved = await fetch(`${baseURL}/api/v1/hosts/${host}/config`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token.stdout().trim()}`, 'content-type': 'application/json' },
        body: JSON.stringify({ module: `{ ... }: { flotilla.test.failActivation = true; }`, baseVersion: current.version }),
      });
      expect(saved.status).toBe(200);
      const failingBuild = cli(['build', host]);
      expect(await failingBuild.exited, failingBuild.stderr()).toBe(0);
      const failingPath = failingBuild.stdout().trim().split('\n').at(-1) as string;
      await writeFile(path.join(dir, 'failing.json'), JSON.stringify({ agents: { [host]: failingPath } }));
      const failing = cli(['deploy', path.join(dir, 'failing.json'), '--canaries', '0']);
      expect(await failing.exited, failing.stdout() + failing.stderr()).toBe(1);
      expect(failing.stdout()).toMatch(new RegExp(`${host}\\s+wave 1\\s+rolled-back: switch-to-configuration switch failed`));
      expect(failing.stdout()).toMatch(/failed: 0\/1 hosts succeeded/);
      expect(failing.stderr()).toMatch(/\[failed\] 0\/1 done/);

      const badFlag = cli(['deploy', path.join(dir, 'deploy.json'), '--max-in-flight', 'lots']);
      expect(await badFlag.exited).toBe(2);
      expect(badFlag.stderr()).toMatch(/rollout.maxInFlight/);

      for (const [name, body, message] of [
        ['unknown.json', { agents: { 'no-such-host': storePath } }, /Unknown hosts: no-such-host/],
        ['not-a-path.json', { agents: { [host]: '/tmp/evil' } }, /Not a Nix store path/],
        ['not-cached.json', { agents: { [host]: `/nix/store/${'0'.repeat(32)}-nixos-system-elsewhere` } }, /Not in this fleet's binary cache/],
      ] as const) {
        await writeFile(path.join(dir, name), JSON.stringify(body));
        const bad = cli(['deploy', path.join(dir, name)]);
        expect(await bad.exited).toBe(2);
        expect(bad.stderr()).toMatch(message);
      }
    } finally {
      agent.child.kill('SIGTERM');
      await agent.exited;
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
