// flotilla-agent: `enroll` trades a one-time token for this host's credential;
// `run` keeps the connection to the server. Runs as root under systemd (module.nix).
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ZEnrollResponse } from '@/lib/agents/protocol';
import { Activator } from './activate';
import { Confirmations } from './confirmations';
import { Coordinator } from './coordinator';
import { Decisions } from './decisions';
import { loadLocalHealthChecks } from './health-checks';
import { StateKeeper } from './snapshots/keeper';
import { currentSystem } from './system';
import { AGENT_VERSION, AgentConnection } from './connection';
import { AgentState, pinnedTrust } from './state';
import { checkCacheUrl, checkServerUrl, judgeWelcome, trustedKeys, type PinnedTrust } from './trust';

const log = (line: string) => console.log(`[flotilla-agent] ${new Date().toISOString()} ${line}`);

const USAGE = `usage:
  flotilla-agent enroll --server URL --token TOKEN [--state-dir DIR] [--allow-insecure]
  flotilla-agent run [--state-dir DIR] [--server URL] [--credential-file FILE] [--profile PATH] [--store-root DIR] [--health-checks FILE] [--allow-insecure]
  flotilla-agent --help

enroll: trade the one-time enroll token (Hosts → New host) for this host's credential.
run: stay connected to the server and activate what it deploys (normally a systemd service).

--state-dir DIR: where the credential, the pinned cache key and the journal live
  (default /var/lib/flotilla-agent). Each host on one machine needs its own.
--store-root DIR: use a separate Nix store root, to simulate a host on this machine.
--allow-insecure: plain http/ws to a server that is not on loopback (the token and the
  credential then cross the network in the clear). Off unless this host's config says so.`;

type Values = Record<string, string | boolean | undefined>;
const str = (v: string | boolean | undefined) => (typeof v === 'string' ? v : undefined);

async function enroll(values: Values) {
  const allowInsecure = values['allow-insecure'] === true;
  const server = checkServerUrl(z.url().parse(values.server), allowInsecure).href.replace(/\/$/, '');
  const token = z.string().min(10).parse(values.token);
  const state = new AgentState(str(values['state-dir']) ?? '/var/lib/flotilla-agent');
  const res = await fetch(`${server}/api/agent/enroll`, {
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
  // Pinned now, from the answer to the enrol token: the cache origin and the fleet key (docs/decisions/0017).
  const cacheUrl = checkCacheUrl(enrolled.cache.url, allowInsecure).href.replace(/\/$/, '');
  const trust: PinnedTrust = { cacheUrl, keys: [{ publicKey: enrolled.cache.publicKey, trustedUntil: null }] };
  await state.save({ server, host: enrolled.host, trust, allowInsecure }, enrolled.credential);
  log(`enrolled as ${enrolled.host}; credential stored in ${state.dir}/credential; pinned the cache ${new URL(cacheUrl).origin} and the key ${enrolled.cache.publicKey}`);
}

const stateDirOf = (values: Values) => str(values['state-dir']) ?? '/var/lib/flotilla-agent';

async function run(values: Values) {
  const agentState = new AgentState(stateDirOf(values));
  const loaded = await agentState.load({ server: str(values.server), credentialFile: str(values['credential-file']) });
  const { credential } = loaded;
  const config = loaded.config;
  const allowInsecure = config.allowInsecure || values['allow-insecure'] === true;
  checkServerUrl(config.server, allowInsecure);
  let trust = pinnedTrust(config);
  if (!trust) throw new Error('this agent pins no cache and key: enrol it again with `flotilla-agent enroll`');
  checkCacheUrl(trust.cacheUrl, allowInsecure);
  const localHealthChecks = await loadLocalHealthChecks(str(values['health-checks']));
  const unlock = await agentState.lock();
  // What is saved: the pinned trust and nothing a server said, minus fields from before pinning.
  const { cacheUrl: _legacyUrl, cachePublicKey: _legacyKey, ...kept } = config;
  const persist = (next: PinnedTrust) => agentState.save({ ...kept, server: config.server, trust: next }, credential, { credential: !values['credential-file'] });
  if (!config.trust) await persist(trust);
  const paths = { storeRoot: str(values['store-root']) ?? null, profile: str(values.profile) ?? '/nix/var/nix/profiles/system' };
  const confirmations = new Confirmations();
  const decisions = new Decisions();
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
    // What enrolment pinned, and keys reached through signed rotations since: never a welcome's word.
    cacheUrl: trust.cacheUrl,
    trustedKeys: () => (trust ? trustedKeys(trust) : []),
    localHealthChecks,
    credential,
    log,
    progress: (phase, message) => {
      const running = coordinator.running();
      if (running) connection.send({ type: 'progress', id: crypto.randomUUID(), deploymentId: running.deploymentId, targetId: running.targetId, phase, message });
    },
    waitForConfirm: (targetId, timeoutMs, signal) => confirmations.wait(targetId, timeoutMs, signal),
    reportChecks: (deploy, items, blocked) =>
      connection.send({ type: 'check-report', id: crypto.randomUUID(), deploymentId: deploy.deploymentId, targetId: deploy.targetId, items, blocked }),
    waitForDecision: (deploy, remind, signal) => decisions.wait(deploy.targetId, remind, signal),
    state,
    reportState,
  });
  // One activation at a time, in the order the server sent them; restores and rollbacks wait their turn too.
  const coordinator: Coordinator = new Coordinator({
    activator,
    send: (message) => connection.send(message),
    log,
    restore: async (restoreId, snapshotId) => {
      await state.restoreRequested(restoreId, snapshotId, await currentSystem(paths), (status, message) =>
        connection.send({ type: 'restore-status', id: crypto.randomUUID(), restoreId, status, message }),
      );
    },
    changed: () => {
      // A heartbeat read before this is stale; the running system, and so the units it declares, may have changed.
      systemEpoch += 1;
      reportState();
    },
  });
  const connection: AgentConnection = new AgentConnection({
    server: config.server,
    credential,
    paths,
    log,
    allowInsecure,
    backoff: process.env.FLOTILLA_AGENT_BACKOFF_MS ? { baseMs: Number(process.env.FLOTILLA_AGENT_BACKOFF_MS) } : undefined,
    silenceMs: process.env.FLOTILLA_AGENT_SILENCE_MS ? Number(process.env.FLOTILLA_AGENT_SILENCE_MS) : undefined,
    systemEpoch: () => systemEpoch,
    // A reconnect: the running activation is reported as running, and nothing unfinished is recovered.
    pendingResults: () => coordinator.unreported(),
    // Counted as reported once hello carried them over an open socket.
    resultsSent: (results) => coordinator.markReported(results),
    running: () => coordinator.running(),
    onMessage: (message) => {
      if (message.type === 'welcome' && trust) {
        const verdict = judgeWelcome(trust, message);
        // Refused parts are logged and ignored: what to trust never depends on this
        // connection, so the agent stays connected and every fetch uses the pinned trust.
        for (const reason of verdict.refused) log(`refusing part of the server's welcome: ${reason}`);
        if (verdict.rotated.length) {
          trust = verdict.trust;
          log(`fleet key rotated (${verdict.rotated.join(', ')}), signed by the pinned key`);
          void persist(verdict.trust).catch((error: unknown) => log(`cannot save the rotated key: ${error instanceof Error ? error.message : String(error)}`));
        }
        reportState();
        // Results that ended while the socket was down or not yet greeted.
        void coordinator.flush().catch((error: unknown) => log(`cannot send results: ${error instanceof Error ? error.message : String(error)}`));
      }
      if (message.type === 'deploy') coordinator.deploy(message);
      else if (message.type === 'confirm') confirmations.confirm(message.targetId);
      else if (message.type === 'resolve') decisions.decide(message.targetId, message.choices);
      else if (message.type === 'restore') coordinator.restore(message.restoreId, message.snapshotId);
      else if (message.type === 'cancel') coordinator.cancel(message.targetId);
      else if (message.type === 'rollback') void coordinator.rollback(message.targetId, message.toSystem).catch((error: unknown) => log(`rollback failed: ${error instanceof Error ? error.message : String(error)}`));
    },
  });
  await state.store.clearScratch();
  // A new process: an activation cut short by a crash or reboot is rolled back now, not when the server is reachable again.
  const recovered = await activator.pendingResults();
  for (const r of recovered) log(`recovered target ${r.targetId}: ${r.outcome}${r.reason ? ` (${r.reason.split('\n')[0]})` : ''}`);
  // Activations that were checking or waiting for a decision go on where they were.
  for (const deploy of await activator.resumable()) {
    log(`resuming target ${deploy.targetId}`);
    coordinator.deploy(deploy);
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

const OPTIONS = {
  server: { type: 'string' },
  token: { type: 'string' },
  'state-dir': { type: 'string' },
  profile: { type: 'string' },
  'store-root': { type: 'string' },
  'credential-file': { type: 'string' },
  'health-checks': { type: 'string' },
  'allow-insecure': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

let parsed: ReturnType<typeof parseArgs<{ allowPositionals: true; options: typeof OPTIONS }>>;
try {
  parsed = parseArgs({ allowPositionals: true, options: OPTIONS });
} catch (error) {
  // An unknown or malformed option: say which, and how it is used, not a stack trace.
  console.error(`flotilla-agent: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
  process.exit(2);
}
const { positionals, values } = parsed;

const command = positionals[0];
try {
  if (values.help || command === 'help') console.log(USAGE);
  else if (command === 'enroll') await enroll(values);
  else if (command === 'run') await run(values);
  else {
    console.error(command ? `flotilla-agent: unknown command ${command}\n\n${USAGE}` : USAGE);
    process.exit(2);
  }
} catch (error) {
  console.error(`flotilla-agent: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
