// The agent gateway: WebSocket connections from host agents, on the HTTP upgrade of
// server.ts. Authentication happens before the handshake completes; each socket is
// one host; a malformed or unexpected message closes that socket only.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { safeErrorForLog } from '@/lib/api/errors';
import { parseAuthorization } from '@/lib/auth/authorization';
import { clientAddressOf } from '@/lib/auth/limiter/client-address';
import { authLimiter } from '@/lib/auth/limiter/limits';
import { sqlClient } from '@/lib/db/client';
import { AdmissionPacer } from './admission-pacer';
import { credentialEnded, hostFromCredential, type HostIdentity } from './credentials';
import { HeartbeatWriter } from './heartbeats';
import { HOST_CHANNEL } from './host-events';
import { GatewayPresence, HEARTBEAT_SECONDS } from './presence';
import { MAX_MESSAGE_BYTES, parseFrame, SUBPROTOCOL, ZAgentMessage, type TAgentMessage, type THello, type TServerMessage } from './protocol';

export { HEARTBEAT_SECONDS };
const PING_MS = 30_000;
const SILENCE_MS = 60_000;
/** Per connection: a burst of 60 messages, refilled at 20 a second. */
const RATE = { burst: 60, perSecond: 20 };
/**
 * Agents being admitted at once (authenticated, then greeted): beyond this an upgrade gets
 * 503 with Retry-After at no cost, so after a restart the crowd comes back at the pace the
 * database answers instead of all queueing on the pool until their handshakes time out.
 */
const MAX_ADMITTING = 200;
const BUSY_RETRY_SECONDS = 2;

type Connection = {
  ws: WebSocket;
  hostId: string;
  hostName: string;
  orgId: string;
  credentialHash: string;
  ip: string;
  lastHeard: number;
  tokens: number;
  refilledAt: number;
  greeted: boolean;
  /** Leaves the admission count (once): at the end of its first hello, or when it closes before. */
  admitted: () => void;
  link: HostLink;
};

/** One connected host as the handlers see it: who it is, and a way to answer it. */
export type HostLink = {
  hostId: string;
  hostName: string;
  orgId: string;
  credentialHash: string;
  /** The server process holding the socket (lib/agents/presence.ts): the host is online while it lives. */
  gatewayId: string;
  send: (message: TServerMessage) => void;
  log: (line: string) => void;
};

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
  /**
   * Events about many hosts at once (a deployment released to thousands): one call with
   * every greeted host of this process, so the handler works in batches, not per host.
   */
  fleetEvents: readonly string[];
  fleetEvent: (event: string, id: string, links: ReadonlyMap<string, HostLink>) => Promise<void>;
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

export function createGateway(opts: { handlers: AgentHandlers; log?: (line: string) => void; maxAdmitting?: number }): Gateway {
  const { handlers } = opts;
  const maxAdmitting = opts.maxAdmitting ?? (Number(process.env.FLOTILLA_GATEWAY_MAX_ADMITTING) || MAX_ADMITTING);
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
  const greetedIds = () => [...connections.values()].filter((c) => c.greeted).map((c) => c.hostId);
  const presence = new GatewayPresence(greetedIds, (hostId) => connections.get(hostId)?.greeted === true, log);
  // Upgrades wait for this: a host must never name a gateway that has no row yet.
  const registered = presence.start();
  registered.catch((error) => log(`cannot register this gateway: ${String(error)}`));
  let admitting = 0;
  // How long an agent refused for want of a place should wait: longer while a crowd knocks.
  const pacer = new AdmissionPacer();
  let closing = false;

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
    try {
      if (!(await handlers.admit(conn.link, message))) return drop(conn, 4401, 'credential revoked or host retired');
      // From here the host's events reach this socket.
      conn.greeted = true;
      pacer.admitted();
    } finally {
      conn.admitted();
    }
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

  function accept(ws: WebSocket, host: HostIdentity, ip: string, admitted: () => void) {
    // An upgrade that was on its way while the gateway closed: the agent tries another server.
    if (closing) {
      admitted();
      return ws.close(1001, 'server shutting down');
    }
    const previous = connections.get(host.id);
    const identity = { hostId: host.id, hostName: host.name, orgId: host.orgId, credentialHash: host.credentialHash ?? '', gatewayId: presence.id };
    const conn: Connection = { ws, ...identity, ip, lastHeard: Date.now(), tokens: RATE.burst, refilledAt: Date.now(), greeted: false, admitted, link: { ...identity, send: (message) => send(conn, message), log } };
    connections.set(host.id, conn);
    if (previous) drop(previous, 4000, 'replaced by a newer connection from the same host');
    ws.on('message', (data, isBinary) => {
      if (isBinary) return drop(conn, 1003, 'protocol error: binary frames are not accepted');
      onMessage(conn, data.toString());
    });
    ws.on('pong', () => (conn.lastHeard = Date.now()));
    ws.on('error', (error) => log(`socket error from ${conn.hostName}: ${error.message}`));
    ws.on('close', () => {
      conn.admitted();
      if (connections.get(host.id) !== conn) return;
      connections.delete(host.id);
      heartbeats.forget(host.id);
      // A failed write is mended by the gateway's next reconcile.
      void presence.disconnected(host.id, conn.lastHeard);
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
      if (handlers.fleetEvents.includes(event)) {
        if (!id) return;
        const links = new Map<string, HostLink>();
        for (const c of connections.values()) if (c.greeted) links.set(c.hostId, c.link);
        void handlers.fleetEvent(event, id, links).catch((error) => log(`${event} ${id} failed: ${safeErrorForLog(error)}`));
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
      if (closing) return reject(socket, '503 Service Unavailable', 'server shutting down\n', `Retry-After: ${BUSY_RETRY_SECONDS}\r\n`);
      const protocols = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
      if (!protocols.includes(SUBPROTOCOL)) return reject(socket, '400 Bad Request', `use the ${SUBPROTOCOL} subprotocol\n`);
      const credentials = parseAuthorization(req.headers.authorization);
      const secret = credentials?.scheme === 'bearer' ? credentials.secret : null;
      if (!secret) return reject(socket, '401 Unauthorized', 'send the host credential as a Bearer token\n');
      if (admitting >= maxAdmitting) return reject(socket, '503 Service Unavailable', 'admitting other agents; come back shortly\n', `Retry-After: ${pacer.refused()}\r\n`);
      admitting += 1;
      let counted = true;
      const admitted = () => {
        if (counted) admitting -= 1;
        counted = false;
      };
      // However the upgrade ends (refused, the peer gone mid-way), the place is given back.
      socket.once('close', admitted);
      registered
        .then(() => hostFromCredential(secret))
        .then(async (host) => {
          if (!host) {
            admitted();
            // A valid credential is never refused for its address's past; a wrong one counts, and past the limit gets 429.
            const limited = await authLimiter().secretFailed(ip, 'the agent gateway');
            if (limited) return reject(socket, '429 Too Many Requests', 'too many failed authentications from your address\n', `Retry-After: ${limited.retryAfterSeconds}\r\n`);
            return reject(socket, '401 Unauthorized', 'unknown or revoked host credential\n');
          }
          wss.handleUpgrade(req, socket, head, (ws) => accept(ws, host, ip, admitted));
        })
        .catch((error) => {
          admitted();
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
      closing = true;
      clearInterval(pinger);
      await (await listening)?.unlisten();
      for (const conn of connections.values()) conn.ws.close(1001, 'server shutting down');
      connections.clear();
      await heartbeats.stop();
      await presence.stop();
      wss.close();
    },
  };
}
