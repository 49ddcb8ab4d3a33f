// Issue 14, finding 2: the agent trusts only what it pinned at enrolment. A real agent,
// enrolled against a real Flotilla server, is pointed (same address: a hijacked or
// compromised server) at a rogue WebSocket server that names its own key and a file://
// cache, offers a key rotation signed by its own key, deploys a closure signed with that
// key (served from the pinned cache origin), and sends a deploy carrying an argv health
// check. The host runs with a lax nix.conf (require-sigs off, the rogue key trusted), so
// only the agent's own forced settings stand in the way. Then the real server comes back,
// an admin rotates the key for real, and a closure signed by the new key activates.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { currentSystem } from '@/agent/system';
import * as keyRotations from '@/app/api/v1/cache/key-rotations/route';
import * as deployments from '@/app/api/v1/deployments/route';
import * as hostBuilds from '@/app/api/v1/hosts/[name]/builds/route';
import * as hostConfig from '@/app/api/v1/hosts/[name]/config/route';
import * as hosts from '@/app/api/v1/hosts/route';
import { AGENT_WS_PATH, rotationPayload, SUBPROTOCOL, ZAgentMessage, type TAgentMessage, type TKeyRotationStatement } from '@/lib/agents/protocol';
import { runBuild } from '@/lib/builds/run-build';
import { ensureCacheKey, signWithNixKey } from '@/lib/cache/keys';
import { db } from '@/lib/db/client';
import { auditEvents, builds, hosts as hostsTable } from '@/lib/db/schema';
import { resetEnvCache } from '@/lib/env';
import { runNix } from '@/lib/nix/run';
import { runAgent, startHarness, until, type AgentProcess, type Harness } from '../agent-harness';
import { call, makeOrg, type OrgFixture } from '../fixtures';
import { finishedDeployment } from '../systems';

let fx: OrgFixture;
let harness: Harness | null = null;
let port: number;
let tmp: string;
let stateDir: string;
let agent: AgentProcess;
const run = Math.random().toString(36).slice(2, 8);
const host = `rogue${run}`;
let version = 1;
let good: string;
let pinnedKey: string;
const rogue = { dir: '', cache: '', secret: '', public: '', system: '', switched: '', pwned: '' };
const paths = () => ({ storeRoot: path.join(tmp, 'root'), profile: '/nix/var/nix/profiles/system' });
const agentJson = async () => JSON.parse(await readFile(path.join(stateDir, 'agent.json'), 'utf8')) as { trust: { cacheUrl: string; keys: { publicKey: string; trustedUntil: string | null }[] } };

/** Saves the host's module and builds it with the real pipeline; returns the system. */
async function buildSystem(module: string, packages: string[]) {
  const saved = await call(hostConfig.PUT, { method: 'PUT', token: fx.members.operator.token, params: { name: host }, json: { module, packages, baseVersion: version } });
  expect(saved.status, JSON.stringify(saved.json)).toBe(200);
  version = saved.json.version;
  const requested = await call(hostBuilds.POST, { method: 'POST', token: fx.members.operator.token, params: { name: host } });
  expect(requested.status, JSON.stringify(requested.json)).toBe(202);
  expect(await runBuild(requested.json.buildId)).toBe('built');
  return (await db().select().from(builds).where(eq(builds.id, requested.json.buildId)))[0]?.storePath as string;
}

async function deployAndWait(system: string) {
  const created = await call(deployments.POST, { method: 'POST', token: fx.members.operator.token, json: { agents: { [host]: system }, rollout: { confirmTimeoutSeconds: 10 } } });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  return finishedDeployment(fx.members.operator, created.json.id, agent.output);
}

/** The rogue's own closure: a "system" whose activation leaves a mark, signed with the rogue's key into a file:// cache. */
async function rogueClosure() {
  rogue.dir = path.join(tmp, 'rogue');
  rogue.cache = path.join(rogue.dir, 'cache');
  rogue.switched = path.join(rogue.dir, 'switched');
  rogue.pwned = path.join(rogue.dir, 'pwned');
  await mkdir(rogue.cache, { recursive: true });
  const key = await runNix('nix-store', ['--generate-binary-cache-key', `rogue-${run}`, path.join(rogue.dir, 'sec'), path.join(rogue.dir, 'pub')]);
  expect(key.code, key.stderr).toBe(0);
  rogue.secret = (await readFile(path.join(rogue.dir, 'sec'), 'utf8')).trim();
  rogue.public = (await readFile(path.join(rogue.dir, 'pub'), 'utf8')).trim();
  const script = `#!/bin/sh\ntouch ${rogue.switched}\n`;
  const expr = `builtins.derivation { name = "nixos-system-rogue-${run}"; system = builtins.currentSystem; builder = "/bin/sh"; PATH = "/bin"; script = ${JSON.stringify(script)}; args = [ "-c" "mkdir -p $out/bin && printf '%s' \\"$script\\" > $out/bin/switch-to-configuration && chmod +x $out/bin/switch-to-configuration && echo rogue > $out/nixos-version" ]; }`;
  const built = await runNix('nix', ['build', '--impure', '--expr', expr, '--json', '--no-link']);
  expect(built.code, built.stderr).toBe(0);
  rogue.system = (JSON.parse(built.stdout) as { outputs: { out: string } }[])[0]?.outputs.out as string;
  const pushed = await runNix('nix', ['copy', '--to', `file://${rogue.cache}?secret-key=${path.join(rogue.dir, 'sec')}`, rogue.system]);
  expect(pushed.code, pushed.stderr).toBe(0);
}

type Rogue = { messages: TAgentMessage[]; closes: { code: number; reason: string }[]; close: () => Promise<void> };

/** A server on the pinned address that speaks the protocol and serves the rogue's cache over HTTP. */
async function startRogue(script: (ws: WebSocket, seen: (type: TAgentMessage['type']) => Promise<TAgentMessage>) => Promise<void>): Promise<Rogue> {
  const messages: TAgentMessage[] = [];
  const closes: { code: number; reason: string }[] = [];
  const server = http.createServer(async (req, res) => {
    const file = (req.url ?? '').split('?')[0]?.replace(/^\/cache\//, '') ?? '';
    if (file === 'nix-cache-info') return res.end('StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 30\n');
    if (!/^[0-9a-z]{32}\.narinfo$|^nar\/[0-9a-z]+\.nar(\.xz)?$/.test(file)) return res.writeHead(404).end();
    const body = await readFile(path.join(rogue.cache, file)).catch(() => null);
    if (!body) return res.writeHead(404).end();
    res.end(body);
  });
  const wss = new WebSocketServer({ server, path: AGENT_WS_PATH, handleProtocols: (p) => (p.has(SUBPROTOCOL) ? SUBPROTOCOL : false) });
  let scripted = false;
  wss.on('connection', (ws) => {
    const seen = (type: TAgentMessage['type']) => until(`the agent's ${type}`, async () => messages.find((m) => m.type === type));
    const reconnection = scripted;
    ws.on('message', (data) => {
      const message = ZAgentMessage.parse(JSON.parse(data.toString()));
      messages.push(message);
      // Greets a reconnection like any server (the agent sends nothing but hello before a welcome).
      if (reconnection && message.type === 'hello') ws.send(JSON.stringify({ type: 'welcome', id: crypto.randomUUID(), host, cacheUrl: `file://${rogue.cache}`, cachePublicKey: rogue.public, heartbeatSeconds: 30, serverTime: new Date().toISOString() }));
      // Confirms like a real server, so nothing but the agent's own checks stands in the way.
      if (message.type === 'progress' && message.phase === 'confirming') ws.send(JSON.stringify({ type: 'confirm', id: crypto.randomUUID(), targetId: message.targetId }));
    });
    ws.on('close', (code, reason) => closes.push({ code, reason: reason.toString() }));
    if (!scripted) {
      scripted = true;
      void script(ws, seen);
    }
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    messages,
    closes,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-rogue-'));
  process.env.FLOTILLA_DATA_DIR = tmp;
  resetEnvCache();
  fx = await makeOrg();
  harness = await startHarness();
  port = Number(new URL(harness.base).port);
  await rogueClosure();
  const created = await call(hosts.POST, { method: 'POST', token: fx.members.operator.token, json: { name: host } });
  good = await buildSystem(`{ ... }: { networking.hostName = "${host}"; }`, ['hello']);
  pinnedKey = (await ensureCacheKey(fx.org.id)).publicKey;
  stateDir = path.join(tmp, 'state');
  const enrol = runAgent(['enroll', '--server', harness.base, '--token', created.json.enrollToken, '--state-dir', stateDir]);
  expect(await enrol.exited, enrol.output()).toBe(0);
  await writeFile(path.join(tmp, 'activations.log'), '');
  // A lax host: its Nix would take unsigned paths, and paths signed by the rogue's key.
  agent = runAgent(['run', '--state-dir', stateDir, '--store-root', paths().storeRoot], {
    FLOTILLA_ACTIVATION_LOG: path.join(tmp, 'activations.log'),
    NIX_CONFIG: `require-sigs = false\nextra-trusted-public-keys = ${rogue.public}`,
  });
  await until('the agent to connect', async () => (await db().select().from(hostsTable).where(and(eq(hostsTable.orgId, fx.org.id), eq(hostsTable.name, host))))[0]?.online);
  const first = await deployAndWait(good);
  expect(first, `${JSON.stringify(first.targets)}\n${agent.output()}`).toMatchObject({ status: 'succeeded' });
  expect(await currentSystem(paths())).toBe(good);
}, 180_000);

afterAll(async () => {
  agent?.child.kill('SIGKILL');
  await harness?.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('an enrolled agent and a rogue server', () => {
  it('keeps its pinned key and cache, refuses a rotation the pinned key did not sign, activates nothing and runs no command from the wire', { timeout: 120_000 }, async () => {
    const pinnedFile = await readFile(path.join(stateDir, 'agent.json'), 'utf8');
    await harness?.close();
    harness = null;
    const forged: TKeyRotationStatement = { version: 1, previousKey: pinnedKey, newKey: rogue.public, issuedAt: new Date().toISOString(), previousKeyTrustedUntil: null };
    const welcome = (extra: object = {}) => ({ type: 'welcome', id: crypto.randomUUID(), host, cacheUrl: `file://${rogue.cache}`, cachePublicKey: rogue.public, heartbeatSeconds: 30, serverTime: new Date().toISOString(), ...extra });
    const deploy = (extra: object = {}) => ({
      type: 'deploy',
      id: crypto.randomUUID(),
      deploymentId: crypto.randomUUID(),
      targetId: crypto.randomUUID(),
      storePath: rogue.system,
      action: 'switch',
      confirmTimeoutSeconds: 30,
      switchTimeoutSeconds: 30,
      ...extra,
    });
    const first = deploy();
    // What today's protocol allows a server to send: a command the agent runs as root after the switch.
    const second = deploy({ healthChecks: [{ name: 'pwn', command: ['touch', rogue.pwned], timeoutSeconds: 5 }] });
    const server = await startRogue(async (ws, seen) => {
      await seen('hello');
      // Another key and a file:// cache; then a rotation to the rogue's key that the rogue signed itself.
      ws.send(JSON.stringify(welcome()));
      ws.send(JSON.stringify(welcome({ keyRotations: [{ statement: forged, signature: signWithNixKey(rogue.secret, rotationPayload(forged)) }] })));
      ws.send(JSON.stringify(first));
      ws.send(JSON.stringify(second));
    });
    const results = () => server.messages.flatMap((m) => (m.type === 'result' ? [m] : m.type === 'hello' ? m.pendingResults : []));
    try {
      await until('the agent to finish with the rogue deploys', async () => results().find((r) => r.targetId === first.targetId || r.targetId === second.targetId), 90_000).catch((e: Error) => {
        throw new Error(`${e.message}\nagent:\n${agent.output()}`);
      });
      // Nothing ran, nothing changed, nothing was saved.
      expect(existsSync(rogue.switched), agent.output()).toBe(false);
      expect(existsSync(rogue.pwned)).toBe(false);
      expect(await currentSystem(paths())).toBe(good);
      expect(existsSync(path.join(paths().storeRoot, rogue.system))).toBe(false);
      expect(await readFile(path.join(stateDir, 'agent.json'), 'utf8')).toBe(pinnedFile);
      expect((await agentJson()).trust).toEqual({ cacheUrl: `http://127.0.0.1:${port}/cache`, keys: [{ publicKey: pinnedKey, trustedUntil: null }] });
      expect((await readFile(path.join(tmp, 'activations.log'), 'utf8')).trim().split('\n')).toEqual([`switch ${good}`]);
      // The closure was fetched from the pinned origin (where the rogue serves too) and judged by the pinned key alone.
      // The rogue repeats its deploys on every connection; a repeat is answered from the
      // agent's journal with the same outcome (never a second activation), so count targets, not messages.
      const outcomes = results();
      expect(new Set(outcomes.map((r) => r.targetId)), agent.output()).toEqual(new Set([first.targetId]));
      for (const r of outcomes) expect(r, agent.output()).toEqual(expect.objectContaining({ targetId: first.targetId, outcome: 'failed', reason: expect.stringMatching(/lacks a valid signature/) }));
      // A deploy carrying a command is a protocol error: the agent closes the socket.
      const closed = await until('the agent to close on the deploy with a command', async () => server.closes.find((c) => c.code === 1008));
      expect(closed.reason).toMatch(/protocol error: .*healthChecks/);
      expect(agent.output()).toMatch(/refusing part of the server's welcome: a key rotation to rogue-\w+ is not signed by the pinned key/);
      expect(agent.output()).toMatch(/refusing part of the server's welcome: the server names the cache file:/);
      expect(agent.output()).toMatch(/refusing part of the server's welcome: the server names the key rogue-\w+/);
    } finally {
      await server.close();
    }
  });

  it('accepts a rotation signed by the pinned key, and then activates a closure signed by the new key alone', { timeout: 180_000 }, async () => {
    harness = await startHarness({ port });
    await until('the agent back on the real server', async () => harness?.gateway.connected() === 1, 30_000);
    // Only settings.manage rotates; an operator cannot.
    expect((await call(keyRotations.POST, { method: 'POST', token: fx.members.operator.token, json: {} })).status).toBe(403);
    const rotated = await call(keyRotations.POST, { method: 'POST', token: fx.members.admin.token, json: { keepPreviousKeyHours: 0 } });
    expect(rotated.status, JSON.stringify(rotated.json)).toBe(201);
    expect(rotated.json).toMatchObject({ previousKey: pinnedKey, previousKeyTrustedUntil: null, resignedNarinfos: expect.any(Number) });
    expect(rotated.json.resignedNarinfos).toBeGreaterThan(0);
    const newKey = rotated.json.publicKey as string;
    expect(newKey).not.toBe(pinnedKey);
    expect((await ensureCacheKey(fx.org.id)).publicKey).toBe(newKey);
    const [audit] = await db().select().from(auditEvents).where(and(eq(auditEvents.orgId, fx.org.id), eq(auditEvents.action, 'cache.key.rotate')));
    expect(audit).toMatchObject({ actorUserId: fx.members.admin.id, before: { publicKey: pinnedKey }, after: { publicKey: newKey } });

    // Connected agents hear of it at once; the old key is not trusted any more (0 hours).
    await until('the agent to pin the new key', async () => (await agentJson()).trust.keys[0]?.publicKey === newKey).catch((e: Error) => {
      throw new Error(`${e.message}\nagent:\n${agent.output()}`);
    });
    expect((await agentJson()).trust).toEqual({ cacheUrl: `${harness.base}/cache`, keys: [{ publicKey: newKey, trustedUntil: null }] });

    // A new system: its own paths signed by the new key, the reused `hello` by the old key and (re-signed) the new one.
    const next = await buildSystem(`{ ... }: { networking.hostName = "${host}"; }`, ['hello', 'jq']);
    const done = await deployAndWait(next);
    expect(done, agent.output()).toMatchObject({ status: 'succeeded', targets: [{ host, phase: 'succeeded', storePath: next }] });
    expect(await currentSystem(paths())).toBe(next);
  });

  it('refuses plain http to a server off loopback before sending anything', async () => {
    const enrol = runAgent(['enroll', '--server', 'http://192.0.2.10:3000', '--token', 'enr_0123456789abcdef', '--state-dir', path.join(tmp, 'insecure')]);
    expect(await enrol.exited).toBe(1);
    expect(enrol.output()).toMatch(/refusing http:\/\/192\.0\.2\.10:3000: plain HTTP is only for loopback/);
    const running = runAgent(['run', '--state-dir', stateDir, '--server', 'ws://192.0.2.10:3000']);
    expect(await running.exited).toBe(1);
    expect(running.output()).toMatch(/refusing ws:\/\/192\.0\.2\.10:3000: plain HTTP is only for loopback/);
  });
});
