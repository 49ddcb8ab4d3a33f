// Saving a host module through the API and building it with real Nix: the system a test deploys.
import { eq } from 'drizzle-orm';
import { expect } from 'vitest';
import * as deploymentById from '@/app/api/v1/deployments/[id]/route';
import * as hostConfig from '@/app/api/v1/hosts/[name]/config/route';
import { requestBuild } from '@/lib/builds/request-build';
import { findHost } from '@/lib/hosts/reach';
import { runBuild } from '@/lib/builds/run-build';
import { db } from '@/lib/db/client';
import { builds } from '@/lib/db/schema';
import { isFinalDeployment } from '@/lib/db/statuses';
import { until } from './agent-harness';
import { call, type Member } from './fixtures';

/** Builds the host's latest config; returns the system's store path. */
export async function buildLatest(operator: Member, host: string): Promise<string> {
  const { buildId } = await requestBuild(operator.caller, await findHost(operator.caller, host));
  expect(await runBuild(buildId)).toBe('built');
  return (await db().select().from(builds).where(eq(builds.id, buildId)))[0]?.storePath as string;
}

/** Saves `module` on top of `baseVersion` and builds it; returns the new version and the system. */
export async function saveAndBuild(operator: Member, host: string, module: string, baseVersion: number): Promise<{ version: number; system: string }> {
  const saved = await call(hostConfig.PUT, { method: 'PUT', token: operator.token, params: { name: host }, json: { module, baseVersion } });
  expect(saved.status, JSON.stringify(saved.json)).toBe(200);
  return { version: saved.json.version as number, system: await buildLatest(operator, host) };
}

/** Waits for a deployment to reach a final status; the agent's output goes into the timeout's message. */
export async function finishedDeployment(member: Member, id: string, agentOutput: () => string = () => '', timeoutMs = 90_000) {
  return until('the deployment to finish', async () => {
    const v = (await call(deploymentById.GET, { token: member.token, params: { id } })).json;
    return isFinalDeployment(v.status) ? v : undefined;
  }, timeoutMs).catch((e: Error) => {
    throw new Error(`${e.message}\nagent:\n${agentOutput()}`);
  });
}
