// What the fleet does with what its agents say, and what it sends them when something
// changes for their host: the domains behind the agent gateway (deliveries and results,
// state reports and restores, the cache's key), composed in one place. The gateway
// (lib/agents/gateway.ts) is the transport and the trust boundary: it authenticates,
// parses every frame, limits rates and hands each accepted message here with the host
// it came from; it imports none of these domains.
import { sql } from 'drizzle-orm';
import { HEARTBEAT_SECONDS, type AgentHandlers, type HostLink } from '@/lib/agents/gateway';
import type { TRunning } from '@/lib/agents/protocol';
import { KEY_ROTATION_EVENT, keyRotationsFor } from '@/lib/cache/key-rotation';
import { ensureCacheKey } from '@/lib/cache/keys';
import { batchLoader } from '@/lib/db/batch-loader';
import { db } from '@/lib/db/client';
import { hosts } from '@/lib/db/schema';
import { RELEASED_EVENT } from '@/lib/agents/host-events';
import {
  cancelsFor,
  claimDeploys,
  decidedTargets,
  hasDeliverable,
  lostDeploys,
  nextDeploy,
  recordCheckReport,
  recordProgress,
  recordResult,
  releasedHosts,
  unfinishedTargets,
  waitingDeployments,
  type UnfinishedTarget,
} from '@/lib/deployments/delivery';
import { nudgeRollout } from '@/lib/deployments/events';
import { TargetWriter } from '@/lib/deployments/target-writer';
import { env } from '@/lib/env';
import { nixpkgsDate } from '@/lib/hosts/nixpkgs-date';
import { recordRestoreStatus, restoresToSend } from '@/lib/state/restore';
import { recordStateReport } from '@/lib/state/snapshots';

type Admission = {
  host_id: string;
  credential_hash: string;
  gateway_id: string;
  agent_version: string;
  current_system: string | null;
  booted_system: string | null;
  needs_reboot: boolean;
  nixos_version: string | null;
  nixpkgs_date: string | null;
};

/**
 * Hellos of the same few milliseconds admitted in one transaction: their hosts locked in id
 * order (as every multi-host write is, so this never deadlocks with a heartbeat flush or a
 * release), then one UPDATE. A host is admitted only while the socket's credential is still
 * its credential and it is not retired: a socket accepted just before a revoke or a retire
 * (whose NOTIFY found no connection yet) is closed at its first message.
 */
const admissions = batchLoader<Admission, boolean>(async (items) => {
  const ids = `{${[...new Set(items.map((i) => i.host_id))].join(',')}}`;
  const admitted = await db().transaction(async (tx) => {
    await tx.execute(sql`select 1 from ${hosts} where id = any(${ids}::uuid[]) order by id for no key update`);
    return tx.execute<{ id: string; credential_hash: string }>(sql`
      with v as (select distinct on (host_id, credential_hash) * from jsonb_to_recordset(${JSON.stringify(items)}::jsonb) as x(
        host_id uuid, credential_hash text, gateway_id uuid, agent_version text, current_system text, booted_system text,
        needs_reboot boolean, nixos_version text, nixpkgs_date date))
      update ${hosts} h set online = true, gateway_id = v.gateway_id, last_seen = now(), agent_version = v.agent_version,
        current_system = v.current_system, booted_system = v.booted_system, needs_reboot = v.needs_reboot,
        nixos_version = v.nixos_version, nixpkgs_date = v.nixpkgs_date
      from v where h.id = v.host_id and h.credential_hash = v.credential_hash and h.retired_at is null
      returning h.id, h.credential_hash`);
  });
  const ok = new Set(admitted.map((a) => `${a.id}:${a.credential_hash}`));
  return items.map((i) => ok.has(`${i.host_id}:${i.credential_hash}`));
});

/** Sends the host its next released target, if it has one and nothing in flight. */
async function deliver(link: HostLink) {
  const deploy = await nextDeploy(link.hostId);
  if (!deploy) return;
  link.send(deploy);
  link.log(`sent ${deploy.storePath} to ${link.hostName} (target ${deploy.targetId})`);
}

/** Progress and results of this process's agents, written in batches (lib/deployments/target-writer.ts). */
const reports = new TargetWriter();

/**
 * A deployment released targets: the hosts held here get them, in batches of a few
 * statements each, straight from the sockets in memory.
 */
const DELIVERY_BATCH = 5_000;
async function deliverRelease(deploymentId: string, links: ReadonlyMap<string, HostLink>) {
  const here = (await releasedHosts(deploymentId)).filter((id) => links.has(id));
  for (let i = 0; i < here.length; i += DELIVERY_BATCH) {
    for (const deploy of await claimDeploys(here.slice(i, i + DELIVERY_BATCH))) {
      const { hostId, ...message } = deploy;
      links.get(hostId)?.send(message);
    }
  }
}

/** Decisions made for this host's blocked targets (the agent resumes on `resolve`). */
async function sendDecisions(link: HostLink, targets?: UnfinishedTarget[]) {
  for (const d of decidedTargets(targets ?? (await unfinishedTargets(link.hostId)))) link.send({ type: 'resolve', id: crypto.randomUUID(), targetId: d.targetId, choices: d.choices });
}

/** Cancels for targets of cancelled deployments the host is still working on. */
async function sendCancels(link: HostLink, targets?: UnfinishedTarget[]) {
  for (const c of cancelsFor(targets ?? (await unfinishedTargets(link.hostId)))) {
    link.send(c);
    link.log(`asked ${link.hostName} to cancel target ${c.targetId}`);
  }
}

/** Restores operators asked for on this host. */
async function sendRestores(link: HostLink) {
  for (const r of await restoresToSend(link.hostId)) {
    link.send(r);
    link.log(`asked ${link.hostName} to restore snapshot ${r.snapshotId} (restore ${r.restoreId})`);
  }
}

/**
 * The cache and key agents compare with what they pinned (they never adopt them from
 * here), and the signed rotations that lead from any earlier key to the current one.
 */
async function welcome(link: HostLink) {
  const { publicKey, keyRotations } = await orgKeys(link.orgId);
  link.send({
    type: 'welcome',
    id: crypto.randomUUID(),
    host: link.hostName,
    cacheUrl: `${env().publicUrl}/cache`,
    cachePublicKey: publicKey,
    keyRotations,
    heartbeatSeconds: HEARTBEAT_SECONDS,
    serverTime: new Date().toISOString(),
  });
}

/**
 * The organisation's key and rotations, read once per organisation rather than per
 * hello (a server restart greets thousands of agents of one organisation): forgotten on
 * the rotation event, and after a minute in case that event was missed.
 */
const KEYS_TTL_MS = 60_000;
const keysByOrg = new Map<string, { at: number; keys: Promise<{ publicKey: string; keyRotations: Awaited<ReturnType<typeof keyRotationsFor>> }> }>();
function orgKeys(orgId: string) {
  const cached = keysByOrg.get(orgId);
  if (cached && Date.now() - cached.at < KEYS_TTL_MS) return cached.keys;
  const keys = Promise.all([ensureCacheKey(orgId), keyRotationsFor(orgId)]).then(([key, keyRotations]) => ({ publicKey: key.publicKey, keyRotations }));
  keysByOrg.set(orgId, { at: Date.now(), keys });
  keys.catch(() => keysByOrg.delete(orgId));
  return keys;
}

async function followRunning(link: HostLink, running: TRunning) {
  link.log(`${link.hostName} is still running target ${running.targetId} (${running.phase})`);
  // A blocked target stays needs-decision; the agent's repeated check report asks for the decision.
  if (running.phase === 'needs-decision') return;
  const confirm = await recordProgress(link.hostId, running.targetId, running.phase, `the agent reconnected, still ${running.phase}`);
  if (confirm) link.send({ type: 'confirm', id: crypto.randomUUID(), targetId: running.targetId });
}

export const agentHandlers: AgentHandlers = {
  async admit(link, message) {
    return admissions.load({
      host_id: link.hostId,
      credential_hash: link.credentialHash,
      gateway_id: link.gatewayId,
      agent_version: message.agentVersion,
      current_system: message.currentSystem,
      booted_system: message.bootedSystem,
      needs_reboot: message.needsReboot ?? false,
      nixos_version: message.nixosVersion,
      nixpkgs_date: nixpkgsDate(message.nixosVersion),
    });
  },

  async hello(link, message) {
    await welcome(link);
    link.log(`${link.hostName} connected (agent ${message.agentVersion})`);
    // Results of activations that ended while it was away, then whatever waits for it.
    const running = message.running;
    for (const result of message.pendingResults) if (result.targetId !== running?.targetId) await recordResult(link.hostId, result);
    // An agent that reconnected in the middle of an activation goes on with it: the server
    // follows (its phase, a confirmation it may have missed) and sends nothing new until its result.
    if (running) await followRunning(link, running);
    // Everything below is read from the host's unfinished targets, in one query.
    const targets = await unfinishedTargets(link.hostId);
    // A target in flight that the agent does not mention was lost on the way, one way or the other.
    const lost = lostDeploys(targets, [...message.pendingResults.map((r) => r.targetId), ...(running ? [running.targetId] : [])]);
    for (const deploy of lost) {
      link.send(deploy);
      link.log(`sent target ${deploy.targetId} to ${link.hostName} again: its agent did not know it`);
    }
    if (!running && lost.length === 0 && hasDeliverable(targets)) await deliver(link);
    await sendCancels(link, targets);
    await sendDecisions(link, targets);
    await sendRestores(link);
    // Rollouts that held a place for this host release it now, not at the driver's next tick.
    for (const id of waitingDeployments(targets)) await nudgeRollout(id);
  },

  async message(link, message) {
    switch (message.type) {
      case 'progress':
        if (await reports.addProgress(link.hostId, message.targetId, message.phase, message.message)) link.send({ type: 'confirm', id: crypto.randomUUID(), targetId: message.targetId });
        return;
      case 'result':
        link.log(`${link.hostName}: target ${message.targetId} ${message.outcome}`);
        {
          // Written with others that arrived meanwhile; the host's next target comes back with it.
          const { next } = await reports.addResult(link.hostId, message);
          if (next) {
            link.send(next);
            link.log(`sent ${next.storePath} to ${link.hostName} (target ${next.targetId})`);
          }
        }
        return;
      case 'state':
        await recordStateReport(link.hostId, message);
        return;
      case 'restore-status':
        link.log(`${link.hostName}: restore ${message.restoreId} ${message.status}`);
        await recordRestoreStatus(link.hostId, message);
        return;
      case 'check-report': {
        const blocked = await recordCheckReport(link.hostId, message);
        if (blocked?.decided) link.send({ type: 'resolve', id: crypto.randomUUID(), targetId: message.targetId, choices: blocked.decided });
        return;
      }
    }
  },

  orgEvents: [KEY_ROTATION_EVENT],

  fleetEvents: [RELEASED_EVENT],

  async fleetEvent(event, id, links) {
    if (event === RELEASED_EVENT) await deliverRelease(id, links);
  },

  async event(link, event) {
    // The organisation's key was rotated: its agents get the signed statement now, before the next deploy needs it.
    if (event === KEY_ROTATION_EVENT) {
      keysByOrg.delete(link.orgId);
      return welcome(link);
    }
    if (event === 'decision') return sendDecisions(link);
    if (event === 'restore') return sendRestores(link);
    if (event === 'cancel') return sendCancels(link);
  },
};
