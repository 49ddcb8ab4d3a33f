// The agent's connection to the server: connect with the host credential, say hello,
// send heartbeats at the interval the server asks for, reconnect with backoff and
// jitter when the connection drops, and say what it is waiting for.
import WebSocket from 'ws';
import { AGENT_WS_PATH, parseFrame, SUBPROTOCOL, ZServerMessage, type TAgentMessage, type TResult, type TServerMessage, type TWelcome } from '@/lib/agents/protocol';
import { backoffMs } from './backoff';
import { bootedSystem, currentSystem, heartbeatFacts, nixosVersion, type SystemPaths } from './system';
import { checkServerUrl } from './trust';

export const AGENT_VERSION = '0.1.0';

export type ConnectionOptions = {
  server: string;
  credential: string;
  paths: SystemPaths;
  log: (line: string) => void;
  onMessage?: (message: TServerMessage) => void;
  /** Results of activations the server has not heard about yet (sent in hello). */
  pendingResults?: () => Promise<TResult[]>;
  /** Changes whenever an activation result is sent: a heartbeat read before it is stale. */
  systemEpoch?: () => number;
  backoff?: { baseMs?: number; capMs?: number };
  /** Plain ws:// to a server off loopback, allowed by the host's own config. */
  allowInsecure?: boolean;
};

export class AgentConnection {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private heartbeat: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
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

  /** Sends if connected; returns whether the message went out. */
  send(message: TAgentMessage): boolean {
    if (this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  private connect() {
    if (this.stopped) return;
    const ws = new WebSocket(this.url(), SUBPROTOCOL, { headers: { authorization: `Bearer ${this.opts.credential}` }, handshakeTimeout: 15_000 });
    this.ws = ws;
    ws.on('open', () =>
      this.hello().catch((error) => {
        this.opts.log(`hello failed: ${error instanceof Error ? error.message : String(error)}`);
        ws.close(1011, 'agent error');
      }),
    );
    ws.on('message', (data) => this.onFrame(data.toString()));
    ws.on('unexpected-response', (_req, res) => {
      this.opts.log(`server refused the connection: HTTP ${res.statusCode}${res.statusCode === 401 ? ' (credential unknown or revoked: enrol again)' : ''}`);
      ws.terminate();
    });
    ws.on('error', (error) => this.opts.log(`connection error: ${error.message}`));
    ws.on('close', (code, reason) => {
      clearInterval(this.heartbeat);
      this.welcome = null;
      if (this.stopped) return;
      const wait = backoffMs(this.attempt++, this.opts.backoff);
      this.opts.log(`disconnected (${code}${reason.length ? ` ${reason.toString()}` : ''}); reconnecting in ${(wait / 1000).toFixed(1)} s`);
      this.retry = setTimeout(() => this.connect(), wait);
    });
  }

  private async hello() {
    const { paths } = this.opts;
    const system = await currentSystem(paths);
    this.send({
      type: 'hello',
      id: crypto.randomUUID(),
      agentVersion: AGENT_VERSION,
      currentSystem: system,
      bootedSystem: await bootedSystem(paths),
      nixosVersion: await nixosVersion(system, paths.storeRoot),
      capabilities: ['switch', 'boot', 'rollback'],
      pendingResults: (await this.opts.pendingResults?.()) ?? [],
    });
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
