// flotilla-agent: `enroll` trades a one-time token for this host's credential;
// `run` keeps the connection to the server. Runs as root under systemd (module.nix).
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ZEnrollResponse } from '@/lib/agents/credentials.schemas';
import type { TDeploy } from '@/lib/agents/protocol';
import { Activator } from './activate';
import { Confirmations } from './confirmations';
import { Decisions } from './decisions';
import { StateKeeper } from './snapshots/keeper';
import { currentSystem } from './system';
import { AGENT_VERSION, AgentConnection } from './connection';
import { AgentState } from './state';

const log = (line: string) => console.log(`[flotilla-agent] ${new Date().toISOString()} ${line}`);

const USAGE = `usage:
  flotilla-agent enroll --server URL --token TOKEN [--state-dir DIR]
  flotilla-agent run [--state-dir DIR] [--server URL] [--credential-file FILE] [--profile PATH] [--store-root DIR]`;

async function enroll(values: Record<string, string | undefined>) {
  const server = z.url().parse(values.server);
  const token = z.string().min(10).parse(values.token);
  const state = new AgentState(values['state-dir'] ?? '/var/lib/flotilla-agent');
  const res = await fetch(`${server.replace(/\/$/, '')}/api/agent/enroll`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token, agentVersion: AGENT_VERSION }),
  });
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const message = (body as { error?: { message?: string } } | null)?.error?.message ?? res.statusText;
    throw new Error(`enrolment refused (HTTP ${res.status}): ${message}`);
  }
  const enrolled = ZEnrollResponse.parse(body);
  await state.save({ server, host: enrolled.host, cacheUrl: enrolled.cache.url, cachePublicKey: enrolled.cache.publicKey }, enrolled.credential);
  log(`enrolled as ${enrolled.host}; credential stored in ${state.dir}/credential`);
}

const stateDirOf = (values: Record<string, string | undefined>) => values['state-dir'] ?? '/var/lib/flotilla-agent';

async function run(values: Record<string, string | undefined>) {
  const agentState = new AgentState(stateDirOf(values));
  const { config, credential } = await agentState.load({ server: values.server, credentialFile: values['credential-file'] });
  const unlock = await agentState.lock();
  const paths = { storeRoot: values['store-root'] ?? null, profile: values.profile ?? '/nix/var/nix/profiles/system' };
  const confirmations = new Confirmations();
  const decisions = new Decisions();
  let connection: AgentConnection;
  // One activation at a time, in the order the server sent them.
  let current: TDeploy | null = null;
  let queue = Promise.resolve();
  let systemEpoch = 0;
  const state = new StateKeeper(stateDirOf(values), paths, log);
  const reportState = () =>
    void currentSystem(paths)
      .then((system) => state.inventory(system))
      .then((inventory) => connection.send({ type: 'state', id: crypto.randomUUID(), ...inventory }))
      .catch((error: unknown) => log(`cannot report state: ${error instanceof Error ? error.message : String(error)}`));
  const activator = new Activator({
    stateDir: agentState.dir,
    paths,
    // Until the first welcome of this run, what enrolment said; then what the server says.
    cacheUrl: config.cacheUrl ?? `${config.server.replace(/\/$/, '')}/cache`,
    cachePublicKey: config.cachePublicKey ?? '',
    credential,
    log,
    progress: (phase, message) => current && connection.send({ type: 'progress', id: crypto.randomUUID(), deploymentId: current.deploymentId, targetId: current.targetId, phase, message }),
    waitForConfirm: (targetId, timeoutMs) => confirmations.wait(targetId, timeoutMs),
    reportChecks: (deploy, items, blocked) =>
      connection.send({ type: 'check-report', id: crypto.randomUUID(), deploymentId: deploy.deploymentId, targetId: deploy.targetId, items, blocked }),
    waitForDecision: (deploy, remind) => decisions.wait(deploy.targetId, remind),
    state,
    reportState,
  });
  const onDeploy = (deploy: TDeploy) => {
    queue = queue.then(async () => {
      current = deploy;
      log(`deploying ${deploy.storePath} (target ${deploy.targetId})`);
      const result = await activator.activate(deploy);
      current = null;
      systemEpoch += 1;
      log(`target ${deploy.targetId}: ${result.outcome}${result.reason ? ` (${result.reason.split('\n')[0]})` : ''}`);
      if (connection.send(result)) await activator.markReported(deploy.targetId);
      // The running system, and so the units it declares, may have changed.
      reportState();
    }).catch((error: unknown) => {
      // An activation that threw must not stop the ones after it; its journal entry is recovered at the next start.
      current = null;
      log(`activation failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`);
    });
  };
  // Restores wait their turn behind activations: never two changes to the host at once.
  const onRestore = (restoreId: string, snapshotId: string) => {
    queue = queue
      .then(async () => {
        await state.restoreRequested(restoreId, snapshotId, await currentSystem(paths), (status, message) =>
          connection.send({ type: 'restore-status', id: crypto.randomUUID(), restoreId, status, message }),
        );
        reportState();
      })
      .catch((error: unknown) => log(`restore ${restoreId} failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`));
  };
  connection = new AgentConnection({
    server: config.server,
    credential,
    paths,
    log,
    backoff: process.env.FLOTILLA_AGENT_BACKOFF_MS ? { baseMs: Number(process.env.FLOTILLA_AGENT_BACKOFF_MS) } : undefined,
    systemEpoch: () => systemEpoch,
    pendingResults: async () => {
      const results = await activator.pendingResults();
      // Counted as reported once hello carried them over an open socket.
      for (const r of results) await activator.markReported(r.targetId);
      return results;
    },
    onMessage: (message) => {
      if (message.type === 'welcome') {
        activator.trust(message.cacheUrl, message.cachePublicKey);
        void agentState.save({ ...config, host: message.host, cacheUrl: message.cacheUrl, cachePublicKey: message.cachePublicKey }, credential, { credential: !values['credential-file'] });
        reportState();
      }
      if (message.type === 'deploy') onDeploy(message);
      else if (message.type === 'confirm') confirmations.confirm(message.targetId);
      else if (message.type === 'resolve') decisions.decide(message.targetId, message.choices);
      else if (message.type === 'restore') onRestore(message.restoreId, message.snapshotId);
    },
  });
  await state.store.clearScratch();
  // An activation cut short by a crash or reboot is rolled back now, not when the server is reachable again.
  const recovered = await activator.pendingResults();
  for (const r of recovered) log(`recovered target ${r.targetId}: ${r.outcome}${r.reason ? ` (${r.reason.split('\n')[0]})` : ''}`);
  // Activations that were checking or waiting for a decision go on where they were.
  for (const deploy of await activator.resumable()) {
    log(`resuming target ${deploy.targetId}`);
    onDeploy(deploy);
  }
  log(`connecting to ${config.server}${config.host ? ` as ${config.host}` : ''}`);
  connection.start();
  const stop = async (signal: string) => {
    log(`${signal}: stopping`);
    // The journal makes stopping mid-activation safe: the next start finishes or rolls it back.
    await connection.stop();
    await unlock();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    server: { type: 'string' },
    token: { type: 'string' },
    'state-dir': { type: 'string' },
    profile: { type: 'string' },
    'store-root': { type: 'string' },
    'credential-file': { type: 'string' },
  },
});

const command = positionals[0];
try {
  if (command === 'enroll') await enroll(values);
  else if (command === 'run') await run(values);
  else {
    console.error(USAGE);
    process.exit(2);
  }
} catch (error) {
  console.error(`flotilla-agent: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
