// The agent gateway: WebSocket connections from host agents, on the HTTP upgrade of
// server.ts. Authentication happens before the handshake completes; each socket is
// one host; a malformed or unexpected message closes that socket only.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { eq } from 'drizzle-orm';
import { WebSocket, WebSocketServer } from 'ws';
import { safeErrorForLog } from '@/lib/api/errors';
import { parseAuthorization } from '@/lib/auth/authorization';
import { clientAddressOf } from '@/lib/auth/limiter/client-address';
import { authLimiter } from '@/lib/auth/limiter/limits';
import { db, sqlClient } from '@/lib/db/client';
import { hosts, type Host } from '@/lib/db/schema';
import { credentialEnded, hostFromCredential } from './credentials';
import { HeartbeatWriter } from './heartbeats';
import { HOST_CHANNEL } from './host-events';
import { MAX_MESSAGE_BYTES, parseFrame, SUBPROTOCOL, ZAgentMessage, type TAgentMessage, type THello, type TServerMessage } from './protocol';

export const HEARTBEAT_SECONDS = 15;
const PING_MS = 30_000;
const SILENCE_MS = 60_000;
/** Per connection: a burst of 60 messages, refilled at 20 a second. */
const RATE = { burst: 60, perSecond: 20 };

type Connection = { ws: WebSocket; hostId: string; hostName: string; orgId: string; credentialHash: string; ip: string; lastHeard: number; tokens: number; refilledAt: number; greeted: boolean; link: HostLink };

/** One connected host as the handlers see it: who it is, and a way to answer it. */
export type HostLink = { hostId: string; hostName: string; orgId: string; credentialHash: string; send: (message: TServerMessage) => void; log: (line: string) => void };

/**
 * What the fleet does with its agents' messages and its hosts' events
 * (lib/fleet/agent-handlers.ts), given to the gateway by whoever runs it: the gateway is
 * the transport and the trust boundary, and knows no domain behind it.
 */
export type AgentHandlers = {
  /** Records a new socket's `hello`; false when the host may not connect (its credential ended meanwhile, or it was retired). */
  admit: (link: HostLink, message: THello) => Promise<boolean>;
  /** After an admitted `hello`: the welcome, and whatever waits for the host. */
  hello: (link: HostLink, message: THello) => Promise<void>;
  /** Any other message but heartbeats (which the gateway batches itself), after the hello. */
  message: (link: HostLink, message: Exclude<TAgentMessage, { type: 'hello' | 'heartbeat' }>) => Promise<void>;
  /** A `<event>:<host id>` heard on the host channel, for a host connected here. */
  event: (link: HostLink, event: string) => Promise<void>;
  /** Events whose id is an organisation's: every connected host of it hears them. */
  orgEvents: readonly string[];
};

export type Gateway = {
  handleUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  send: (hostId: string, message: TServerMessage) => boolean;
  connected: () => number;
  close: () => Promise<void>;
};

function reject(socket: Duplex, status: string, message: string, extraHeaders = '') {
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n${extraHeaders}Content-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(message)}\r\n\r\n${message}`);
}

export function createGateway(opts: { handlers: AgentHandlers; log?: (line: string) => void }): Gateway {
  const { handlers } = opts;
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

  async function dropIfCredentialEnded(conn: Connection) {
    if (await credentialEnded(conn.hostId, conn.credentialHash)) drop(conn, 4401, 'credential revoked or rotated, or host retired', 1_500);
  }

  const safely = (conn: Connection, what: string, work: Promise<unknown>) =>
    void work.catch((error) => log(`${what} for ${conn.hostName} failed: ${error instanceof Error ? error.message : String(error)}`));

  async function onHello(conn: Connection, message: THello) {
    if (!(await handlers.admit(conn.link, message))) return drop(conn, 4401, 'credential revoked or host retired');
    // From here the host's events reach this socket.
    conn.greeted = true;
    await handlers.hello(conn.link, message);
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
      default:
        safely(conn, message.type, handlers.message(conn.link, message));
        return;
    }
  }

  function accept(ws: WebSocket, host: Host, ip: string) {
    const previous = connections.get(host.id);
    const identity = { hostId: host.id, hostName: host.name, orgId: host.orgId, credentialHash: host.credentialHash ?? '' };
    const conn: Connection = { ws, ...identity, ip, lastHeard: Date.now(), tokens: RATE.burst, refilledAt: Date.now(), greeted: false, link: { ...identity, send: (message) => send(conn, message), log } };
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
      const [event = '', id] = payload.split(':');
      if (handlers.orgEvents.includes(event)) {
        for (const c of connections.values()) if (c.greeted && c.orgId === id) safely(c, event, handlers.event(c.link, event));
        return;
      }
      const conn = id ? connections.get(id) : undefined;
      if (!conn) return;
      // The event says the host's credential changed, not to what: a socket that already
      // holds the new one (an agent that enrolled again and connected before this NOTIFY
      // arrived) stays; one on a revoked or replaced credential, or of a retired host, goes.
      if (event === 'credential') safely(conn, 'credential check', dropIfCredentialEnded(conn));
      else if (conn.greeted) safely(conn, event, handlers.event(conn.link, event));
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
