// The single-file agent (what a host installs) and its NixOS module.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as hosts from '@/app/api/v1/hosts/route';
import { db } from '@/lib/db/client';
import { hosts as hostsTable } from '@/lib/db/schema';
import { runNix } from '@/lib/nix/run';
import { buildAgent } from '../scripts/build-agent';
import { startHarness, until, type Harness } from './agent-harness';
import { call, makeOrg, type OrgFixture } from './fixtures';

let tmp: string;
let harness: Harness;
let fx: OrgFixture;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-bundle-'));
  fx = await makeOrg();
  harness = await startHarness();
});

afterAll(async () => {
  await harness?.close();
  await rm(tmp, { recursive: true, force: true });
});

function node(args: string[]) {
  // Outside the repository, with nothing but Node.js: the bundle must carry everything.
  const child = spawn(process.execPath, args, { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', FLOTILLA_AGENT_BACKOFF_MS: '200' } });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return { child, output: () => out, exited: new Promise<number | null>((resolve) => child.on('exit', resolve)) };
}

describe('the bundled agent', () => {
  it('enrols and connects from a single file', { timeout: 60_000 }, async () => {
    const bundle = await buildAgent(path.join(tmp, 'flotilla-agent.mjs'));
    const created = await call(hosts.POST, { method: 'POST', token: fx.members.operator.token, json: { name: 'bundled' } });
    const state = path.join(tmp, 'state');
    const enrol = node([bundle, 'enroll', '--server', harness.base, '--token', created.json.enrollToken, '--state-dir', state]);
    expect(await enrol.exited, enrol.output()).toBe(0);
    // As the NixOS module runs it: server and credential file on the command line.
    const run = node([bundle, 'run', '--server', harness.base, '--credential-file', path.join(state, 'credential'), '--state-dir', state, '--store-root', path.join(tmp, 'root')]);
    try {
      await until('the bundled agent online', async () => (await db().select().from(hostsTable).where(and(eq(hostsTable.orgId, fx.org.id), eq(hostsTable.name, 'bundled'))))[0]?.online);
    } finally {
      run.child.kill('SIGTERM');
      expect(await run.exited, run.output()).toBe(0);
    }
  });

  it('ships a NixOS module that parses', async () => {
    const result = await runNix('nix-instantiate', ['--parse', path.resolve(import.meta.dirname, '..', 'agent', 'module.nix')]);
    expect(result.code, result.stderr).toBe(0);
  });
});
