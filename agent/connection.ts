// The agent's connection to the server: connect with the host credential, say hello,
// send heartbeats at the interval the server asks for, reconnect with backoff and
// jitter when the connection drops or the server falls silent, and say what it is
// waiting for.
import WebSocket from 'ws';
import { AGENT_WS_PATH, parseFrame, SUBPROTOCOL, ZServerMessage, type TAgentMessage, type TResult, type TRunning, type TServerMessage, type TWelcome } from '@/lib/agents/protocol';
import { backoffMs, retryAfterMs } from './backoff';
import { bootedSystem, currentSystem, heartbeatFacts, needsReboot, nixosVersion, type SystemPaths } from './system';
import { checkServerUrl } from './trust';

export const AGENT_VERSION = '0.1.0';
/** No frame, ping or pong from the server for this long: the connection is dead, even if TCP has not noticed. */
export const SILENCE_MS = 45_000;

export type ConnectionOptions = {
  server: string;
  credential: string;
  paths: SystemPaths;
  log: (line: string) => void;
  onMessage?: (message: TServerMessage) => void;
  /** Results of activations the server has not heard about yet (sent in hello). */
  pendingResults?: () => Promise<TResult[]>;
  /** Called once a hello carrying these results went out over an open socket. */
  resultsSent?: (results: TResult[]) => Promise<void>;
  /** The activation running now: the server follows it instead of treating it as lost. */
  running?: () => TRunning | null;
  /** Silence after which the agent reconnects (SILENCE_MS unless a test shortens it). */
  silenceMs?: number;
  /** Changes whenever an activation result is sent: a heartbeat read before it is stale. */
  systemEpoch?: () => number;
  backoff?: { baseMs?: number; capMs?: number };
  /** Plain ws:// to a server off loopback, allowed by the host's own config. */
  allowInsecure?: boolean;
};

export class AgentConnection {
  private ws: WebSocket | null = null;
  private attempt = 0;
  /** The wait a busy server asked for (503 + Retry-After), used once instead of the backoff. */
  private nextWait: number | null = null;
  private heartbeat: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private liveness: NodeJS.Timeout | undefined;
  private lastHeard = 0;
  private stopped = false;
  welcome: TWelcome | null = null;

  constructor(private opts: ConnectionOptions) {
    // Before any connection: the credential is never sent in the clear off this machine.
    checkServerUrl(opts.server, opts.allowInsecure ?? false);
  }

  start() {
    this.connect();
  }

  private url() {
    return `${this.opts.server.replace(/^http/, 'ws').replace(/\/$/, '')}${AGENT_WS_PATH}`;
  }

  /**
   * Sends if connected and greeted; returns whether the message went out. Before the
   * welcome only hello may go: the server closes a socket whose first message is not hello.
   */
  send(message: TAgentMessage): boolean {
    if (this.ws?.readyState !== WebSocket.OPEN || (!this.welcome && message.type !== 'hello')) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  /**
   * The agent's side of liveness: its own pings make a quiet but healthy server answer, and
   * silence beyond silenceMs (a server that hangs, a half-open connection) ends the socket,
   * so the usual backoff reconnects instead of waiting for TCP to give up.
   */
  private watch(ws: WebSocket) {
    const silenceMs = this.opts.silenceMs ?? SILENCE_MS;
    this.lastHeard = Date.now();
    clearInterval(this.liveness);
    this.liveness = setInterval(() => {
      if (this.ws !== ws) return;
      const silent = Date.now() - this.lastHeard;
      if (silent > silenceMs) {
        this.opts.log(`the server has been silent for ${(silent / 1000).toFixed(1)} s; dropping the connection`);
        ws.terminate();
      } else if (ws.readyState === WebSocket.OPEN) ws.ping();
    }, Math.max(50, Math.floor(silenceMs / 3)));
  }

  private connect() {
    if (this.stopped) return;
    const ws = new WebSocket(this.url(), SUBPROTOCOL, { headers: { authorization: `Bearer ${this.opts.credential}` }, handshakeTimeout: 15_000 });
    this.ws = ws;
    const heard = () => (this.lastHeard = Date.now());
    ws.on('ping', heard);
    ws.on('pong', heard);
    ws.on('open', () => {
      this.watch(ws);
      this.hello().catch((error) => {
        this.opts.log(`hello failed: ${error instanceof Error ? error.message : String(error)}`);
        ws.close(1011, 'agent error');
      });
    });
    ws.on('message', (data) => {
      heard();
      this.onFrame(data.toString());
    });
    ws.on('unexpected-response', (_req, res) => {
      // A busy server (admitting a crowd after a restart) says when to come back: that is
      // not a failure, so the backoff does not grow.
      const busy = res.statusCode === 503 ? retryAfterMs(res.headers['retry-after']) : null;
      if (busy !== null) this.nextWait = busy;
      else this.opts.log(`server refused the connection: HTTP ${res.statusCode}${res.statusCode === 401 ? ' (credential unknown or revoked: enrol again)' : ''}`);
      ws.terminate();
    });
    ws.on('error', (error) => this.opts.log(`connection error: ${error.message}`));
    ws.on('close', (code, reason) => {
      clearInterval(this.heartbeat);
      clearInterval(this.liveness);
      this.welcome = null;
      if (this.stopped) return;
      const wait = this.nextWait ?? backoffMs(this.attempt++, this.opts.backoff);
      this.nextWait = null;
      this.opts.log(`disconnected (${code}${reason.length ? ` ${reason.toString()}` : ''}); reconnecting in ${(wait / 1000).toFixed(1)} s`);
      this.retry = setTimeout(() => this.connect(), wait);
    });
  }

  private async hello() {
    const { paths } = this.opts;
    const system = await currentSystem(paths);
    const facts = { currentSystem: system, bootedSystem: await bootedSystem(paths), needsReboot: await needsReboot(paths), nixosVersion: await nixosVersion(system, paths.storeRoot) };
    const pendingResults = (await this.opts.pendingResults?.()) ?? [];
    const sent = this.send({
      type: 'hello',
      id: crypto.randomUUID(),
      agentVersion: AGENT_VERSION,
      ...facts,
      capabilities: ['switch', 'boot', 'rollback', 'cancel'],
      pendingResults,
      // Read last, with nothing awaited before the send: a reconnect during an activation says it still runs.
      running: this.opts.running?.() ?? null,
    });
    if (sent && pendingResults.length) await this.opts.resultsSent?.(pendingResults);
  }

  private onFrame(data: string) {
    const parsed = parseFrame(ZServerMessage, data);
    if (!parsed.ok) {
      // Unknown or malformed messages close the socket (DESIGN.md §7): a field this agent
      // does not know (say, a command to run) is never half-obeyed.
      this.opts.log(`closing the connection: the server sent a message this agent refuses (${parsed.error})`);
      this.ws?.close(1008, `protocol error: ${parsed.error}`.slice(0, 120));
      return;
    }
    const message = parsed.message;
    if (message.type === 'welcome') {
      this.attempt = 0;
      this.welcome = message;
      this.opts.log(`connected as ${message.host}; heartbeat every ${message.heartbeatSeconds} s`);
      clearInterval(this.heartbeat);
      const beat = async () => {
        try {
          const epoch = this.opts.systemEpoch?.();
          const facts = await heartbeatFacts(this.opts.paths);
          // Read before a result went out, it would tell the server the old system after the new one.
          if (this.opts.systemEpoch?.() !== epoch) return;
          this.send({ type: 'heartbeat', id: crypto.randomUUID(), ...facts });
        } catch (error) {
          // A fact that cannot be read this time must not take the agent down.
          this.opts.log(`heartbeat skipped: ${error instanceof Error ? error.message : String(error)}`);
        }
      };
      void beat();
      this.heartbeat = setInterval(() => void beat(), message.heartbeatSeconds * 1000);
    }
    this.opts.onMessage?.(message);
  }

  async stop() {
    this.stopped = true;
    clearTimeout(this.retry);
    clearInterval(this.heartbeat);
    clearInterval(this.liveness);
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      ws.once('close', () => resolve());
      ws.close(1000, 'agent stopping');
      setTimeout(() => {
        ws.terminate();
        resolve();
      }, 3_000).unref();
    });
  }
}
