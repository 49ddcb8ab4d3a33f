// The agent gateway: WebSocket connections from host agents, on the HTTP upgrade of
// server.ts. Authentication happens before the handshake completes; each socket is
// one host; a malformed or unexpected message closes that socket only.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { and, eq, isNull } from 'drizzle-orm';
import { WebSocket, WebSocketServer } from 'ws';
import { safeErrorForLog } from '@/lib/api/errors';
import { parseAuthorization } from '@/lib/auth/authorization';
import { clientAddressOf } from '@/lib/auth/limiter/client-address';
import { authLimiter } from '@/lib/auth/limiter/limits';
import { KEY_ROTATION_EVENT, keyRotationsFor } from '@/lib/cache/key-rotation';
import { ensureCacheKey } from '@/lib/cache/keys';
import { db, sqlClient } from '@/lib/db/client';
import { hosts, type Host } from '@/lib/db/schema';
import { env } from '@/lib/env';
import { cancelsFor, decidedTargets, lostDeploys, nextDeploy, nudgeWaitingDeployments, recordCheckReport, recordProgress, recordResult } from '@/lib/deployments/delivery';
import { nixpkgsDate } from '@/lib/hosts/nixpkgs-date';
import { recordRestoreStatus, restoresToSend } from '@/lib/state/restore';
import { recordStateReport } from '@/lib/state/snapshots';
import { hostFromCredential } from './credentials';
import { HeartbeatWriter } from './heartbeats';
import { HOST_CHANNEL } from './host-events';
import { MAX_MESSAGE_BYTES, parseFrame, SUBPROTOCOL, ZAgentMessage, type TRunning, type TServerMessage } from './protocol';

export const HEARTBEAT_SECONDS = 15;
const PING_MS = 30_000;
const SILENCE_MS = 60_000;
/** Per connection: a burst of 60 messages, refilled at 20 a second. */
const RATE = { burst: 60, perSecond: 20 };

type Connection = { ws: WebSocket; hostId: string; hostName: string; orgId: string; credentialHash: string; ip: string; lastHeard: number; tokens: number; refilledAt: number; greeted: boolean };

export type Gateway = {
  handleUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  send: (hostId: string, message: TServerMessage) => boolean;
  connected: () => number;
  close: () => Promise<void>;
};

function reject(socket: Duplex, status: string, message: string, extraHeaders = '') {
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n${extraHeaders}Content-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(message)}\r\n\r\n${message}`);
}

export function createGateway(opts: { log?: (line: string) => void } = {}): Gateway {
  const log = opts.log ?? ((line: string) => console.log(`[agents] ${line}`));
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
  });
  const connections = new Map<string, Connection>();
  const heartbeats = new HeartbeatWriter();
  heartbeats.start();

  const send = (conn: Connection, message: TServerMessage) => {
    if (conn.ws.readyState === WebSocket.OPEN) conn.ws.send(JSON.stringify(message));
  };

  const drop = (conn: Connection, code: number, reason: string, graceMs = 5_000) => {
    log(`closing ${conn.hostName} (${conn.ip}): ${reason}`);
    conn.ws.close(code, reason.slice(0, 120));
    // A peer that ignores the close handshake is cut off.
    setTimeout(() => conn.ws.terminate(), graceMs).unref();
  };

  /** Sends the host its next released target, if it has one and nothing in flight. */
  async function deliver(conn: Connection) {
    const deploy = await nextDeploy(conn.hostId);
    if (!deploy) return;
    send(conn, deploy);
    log(`sent ${deploy.storePath} to ${conn.hostName} (target ${deploy.targetId})`);
  }

  /** Decisions made for this host's blocked targets (the agent resumes on `resolve`). */
  async function sendDecisions(conn: Connection) {
    for (const d of await decidedTargets(conn.hostId)) send(conn, { type: 'resolve', id: crypto.randomUUID(), targetId: d.targetId, choices: d.choices });
  }

  /** Cancels for targets of cancelled deployments the host is still working on. */
  async function sendCancels(conn: Connection) {
    for (const c of await cancelsFor(conn.hostId)) {
      send(conn, c);
      log(`asked ${conn.hostName} to cancel target ${c.targetId}`);
    }
  }

  /** Restores operators asked for on this host. */
  async function sendRestores(conn: Connection) {
    for (const r of await restoresToSend(conn.hostId)) {
      send(conn, r);
      log(`asked ${conn.hostName} to restore snapshot ${r.snapshotId} (restore ${r.restoreId})`);
    }
  }

  /**
   * The cache and key agents compare with what they pinned (they never adopt them from
   * here), and the signed rotations that lead from any earlier key to the current one.
   */
  async function welcome(conn: Connection) {
    const key = await ensureCacheKey(conn.orgId);
    send(conn, {
      type: 'welcome',
      id: crypto.randomUUID(),
      host: conn.hostName,
      cacheUrl: `${env().publicUrl}/cache`,
      cachePublicKey: key.publicKey,
      keyRotations: await keyRotationsFor(conn.orgId),
      heartbeatSeconds: HEARTBEAT_SECONDS,
      serverTime: new Date().toISOString(),
    });
  }

  async function dropIfCredentialEnded(conn: Connection) {
    const [row] = await db().select({ credentialHash: hosts.credentialHash, retiredAt: hosts.retiredAt }).from(hosts).where(eq(hosts.id, conn.hostId));
    if (!row || row.retiredAt || row.credentialHash !== conn.credentialHash) drop(conn, 4401, 'credential revoked or rotated, or host retired', 1_500);
  }

  async function followRunning(conn: Connection, running: TRunning) {
    log(`${conn.hostName} is still running target ${running.targetId} (${running.phase})`);
    // A blocked target stays needs-decision; the agent's repeated check report asks for the decision.
    if (running.phase === 'needs-decision') return;
    const confirm = await recordProgress(conn.hostId, running.targetId, running.phase, `the agent reconnected, still ${running.phase}`);
    if (confirm) send(conn, { type: 'confirm', id: crypto.randomUUID(), targetId: running.targetId });
  }

  const safely = (conn: Connection, what: string, work: Promise<unknown>) =>
    void work.catch((error) => log(`${what} for ${conn.hostName} failed: ${error instanceof Error ? error.message : String(error)}`));

  async function onHello(conn: Connection, message: Extract<ReturnType<typeof ZAgentMessage.parse>, { type: 'hello' }>) {
    const [host] = await db()
      .update(hosts)
      .set({
        online: true,
        lastSeen: new Date(),
        agentVersion: message.agentVersion,
        currentSystem: message.currentSystem,
        bootedSystem: message.bootedSystem,
        nixosVersion: message.nixosVersion,
        nixpkgsDate: nixpkgsDate(message.nixosVersion),
      })
      // Still this credential and not retired: a socket accepted just before a revoke or a
      // retire (whose NOTIFY found no connection yet) is closed here, at its first message.
      .where(and(eq(hosts.id, conn.hostId), eq(hosts.credentialHash, conn.credentialHash), isNull(hosts.retiredAt)))
      .returning();
    if (!host) return drop(conn, 4401, 'credential revoked or host retired');
    conn.greeted = true;
    await welcome(conn);
    log(`${host.name} connected (agent ${message.agentVersion})`);
    // Results of activations that ended while it was away, then whatever waits for it.
    const running = message.running;
    for (const result of message.pendingResults) if (result.targetId !== running?.targetId) await recordResult(conn.hostId, result);
    // An agent that reconnected in the middle of an activation goes on with it: the server
    // follows (its phase, a confirmation it may have missed) and sends nothing new until its result.
    if (running) await followRunning(conn, running);
    // A target in flight that the agent does not mention was lost on the way, one way or the other.
    const lost = await lostDeploys(conn.hostId, [...message.pendingResults.map((r) => r.targetId), ...(running ? [running.targetId] : [])]);
    for (const deploy of lost) {
      send(conn, deploy);
      log(`sent target ${deploy.targetId} to ${conn.hostName} again: its agent did not know it`);
    }
    if (!running && lost.length === 0) await deliver(conn);
    await sendCancels(conn);
    await sendDecisions(conn);
    await sendRestores(conn);
    // Rollouts that held a place for this host release it now, not at the driver's next tick.
    await nudgeWaitingDeployments(conn.hostId);
  }

  function onMessage(conn: Connection, data: string) {
    conn.lastHeard = Date.now();
    const now = Date.now();
    conn.tokens = Math.min(RATE.burst, conn.tokens + ((now - conn.refilledAt) / 1000) * RATE.perSecond);
    conn.refilledAt = now;
    if (conn.tokens < 1) return drop(conn, 1008, 'rate limit exceeded');
    conn.tokens -= 1;
    const parsed = parseFrame(ZAgentMessage, data);
    if (!parsed.ok) return drop(conn, 1008, `protocol error: ${parsed.error}`);
    const message = parsed.message;
    if (!conn.greeted && message.type !== 'hello') return drop(conn, 1008, 'protocol error: hello must come first');
    switch (message.type) {
      case 'hello':
        void onHello(conn, message).catch((error) => {
          log(`hello from ${conn.hostName} failed: ${safeErrorForLog(error)}`);
          drop(conn, 1011, 'server error');
        });
        return;
      case 'heartbeat':
        heartbeats.add(conn.hostId, message, conn.lastHeard);
        return;
      case 'progress':
        safely(
          conn,
          'progress',
          recordProgress(conn.hostId, message.targetId, message.phase, message.message).then((confirm) => {
            if (confirm) send(conn, { type: 'confirm', id: crypto.randomUUID(), targetId: message.targetId });
          }),
        );
        return;
      case 'result':
        log(`${conn.hostName}: target ${message.targetId} ${message.outcome}`);
        safely(conn, 'result', recordResult(conn.hostId, message).then(() => deliver(conn)));
        return;
      case 'state':
        safely(conn, 'state report', recordStateReport(conn.hostId, message));
        return;
      case 'restore-status':
        log(`${conn.hostName}: restore ${message.restoreId} ${message.status}`);
        safely(conn, 'restore status', recordRestoreStatus(conn.hostId, message));
        return;
      case 'check-report':
        safely(
          conn,
          'check report',
          recordCheckReport(conn.hostId, message).then((blocked) => {
            if (blocked?.decided) send(conn, { type: 'resolve', id: crypto.randomUUID(), targetId: message.targetId, choices: blocked.decided });
          }),
        );
        return;
    }
  }

  function accept(ws: WebSocket, host: Host, ip: string) {
    const previous = connections.get(host.id);
    const conn: Connection = { ws, hostId: host.id, hostName: host.name, orgId: host.orgId, credentialHash: host.credentialHash ?? '', ip, lastHeard: Date.now(), tokens: RATE.burst, refilledAt: Date.now(), greeted: false };
    connections.set(host.id, conn);
    if (previous) drop(previous, 4000, 'replaced by a newer connection from the same host');
    ws.on('message', (data, isBinary) => {
      if (isBinary) return drop(conn, 1003, 'protocol error: binary frames are not accepted');
      onMessage(conn, data.toString());
    });
    ws.on('pong', () => (conn.lastHeard = Date.now()));
    ws.on('error', (error) => log(`socket error from ${conn.hostName}: ${error.message}`));
    ws.on('close', () => {
      if (connections.get(host.id) !== conn) return;
      connections.delete(host.id);
      void db()
        .update(hosts)
        .set({ online: false, lastSeen: new Date(conn.lastHeard) })
        .where(eq(hosts.id, host.id))
        .catch((error) => log(`marking ${conn.hostName} offline failed: ${String(error)}`));
    });
  }

  const pinger = setInterval(() => {
    const now = Date.now();
    for (const conn of connections.values()) {
      if (now - conn.lastHeard > SILENCE_MS) {
        log(`${conn.hostName} silent for ${Math.round((now - conn.lastHeard) / 1000)} s`);
        conn.ws.terminate();
      } else conn.ws.ping();
    }
  }, PING_MS);
  pinger.unref();

  // Credential changes reach every server process: a revoked or retired host is cut off at
  // once (within 1.5 s even if its agent ignores the close handshake).
  const listening = sqlClient()
    .listen(HOST_CHANNEL, (payload) => {
      const [event, hostId] = payload.split(':');
      // The organisation's key was rotated: its agents get the signed statement now, before the next deploy needs it.
      if (event === KEY_ROTATION_EVENT) {
        for (const c of connections.values()) if (c.greeted && c.orgId === hostId) safely(c, 'welcome after a key rotation', welcome(c));
        return;
      }
      const conn = hostId ? connections.get(hostId) : undefined;
      // The event says the host's credential changed, not to what: a socket that already
      // holds the new one (an agent that enrolled again and connected before this NOTIFY
      // arrived) stays; one on a revoked or replaced credential, or of a retired host, goes.
      if (conn && event === 'credential') safely(conn, 'credential check', dropIfCredentialEnded(conn));
      if (conn?.greeted && event === 'deploy') safely(conn, 'delivery', deliver(conn));
      if (conn?.greeted && event === 'decision') safely(conn, 'decision', sendDecisions(conn));
      if (conn?.greeted && event === 'restore') safely(conn, 'restore', sendRestores(conn));
      if (conn?.greeted && event === 'cancel') safely(conn, 'cancel', sendCancels(conn));
    })
    .catch((error) => {
      log(`cannot LISTEN on ${HOST_CHANNEL}: ${String(error)}`);
      return null;
    });

  return {
    handleUpgrade(req, socket, head) {
      const ip = clientAddressOf(req);
      socket.on('error', () => socket.destroy());
      const protocols = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
      if (!protocols.includes(SUBPROTOCOL)) return reject(socket, '400 Bad Request', `use the ${SUBPROTOCOL} subprotocol\n`);
      const credentials = parseAuthorization(req.headers.authorization);
      const secret = credentials?.scheme === 'bearer' ? credentials.secret : null;
      if (!secret) return reject(socket, '401 Unauthorized', 'send the host credential as a Bearer token\n');
      hostFromCredential(secret)
        .then(async (host) => {
          if (!host) {
            // A valid credential is never refused for its address's past; a wrong one counts, and past the limit gets 429.
            const limited = await authLimiter().secretFailed(ip, 'the agent gateway');
            if (limited) return reject(socket, '429 Too Many Requests', 'too many failed authentications from your address\n', `Retry-After: ${limited.retryAfterSeconds}\r\n`);
            return reject(socket, '401 Unauthorized', 'unknown or revoked host credential\n');
          }
          wss.handleUpgrade(req, socket, head, (ws) => accept(ws, host, ip));
        })
        .catch((error) => {
          log(`upgrade failed: ${String(error)}`);
          reject(socket, '500 Internal Server Error', 'server error\n');
        });
    },
    send(hostId, message) {
      const conn = connections.get(hostId);
      if (!conn?.greeted) return false;
      send(conn, message);
      return true;
    },
    connected: () => connections.size,
    async close() {
      clearInterval(pinger);
      await (await listening)?.unlisten();
      for (const conn of connections.values()) conn.ws.close(1001, 'server shutting down');
      connections.clear();
      await heartbeats.stop();
      wss.close();
    },
  };
}
