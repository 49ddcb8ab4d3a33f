// Issue 14, finding 5: the failure limiter. Real requests on real sockets: the route
// wrapper behind a server that does what server.ts does before Next.js, the binary
// cache and the agent gateway of the agent harness, and a second server process. Each
// test speaks from its own loopback address (127.0.0.N), the way separate clients would.
import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import { drizzle } from 'drizzle-orm/postgres-js';
import { like, sql } from 'drizzle-orm';
import { NextRequest } from 'next/server';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CredentialsConfig } from 'next-auth/providers/credentials';
import WebSocket from 'ws';
import * as hosts from '@/app/api/v1/hosts/route';
import * as me from '@/app/api/v1/me/route';
import { enrollHost } from '@/lib/agents/credentials';
import { AGENT_WS_PATH, SUBPROTOCOL } from '@/lib/agents/protocol';
import { addressKey, CLIENT_ADDRESS_HEADER, markClientAddress, resolveClientAddress } from '@/lib/auth/limiter/client-address';
import { ACCOUNT_DELAY, createAuthLimiter, SECRET_LIMIT, SIGN_IN_ADDRESS_LIMIT } from '@/lib/auth/limiter/limits';
import { authOptions } from '@/lib/auth/next-auth';
import { db } from '@/lib/db/client';
import * as schema from '@/lib/db/schema';
import { authFailures } from '@/lib/db/schema';
import { parseEnv, resetEnvCache } from '@/lib/env';
import { startHarness, startHarnessProcess, until, type Harness } from '../agent-harness';
import { call, makeOrg, PASSWORD, type OrgFixture } from '../fixtures';

let fx: OrgFixture;
let harness: Harness;
let api: http.Server;
let apiBase: string;
const children: ChildProcess[] = [];

type Reply = { status: number; headers: http.IncomingHttpHeaders; body: string };

/** An HTTP request from a chosen loopback address, so the server sees that socket address. */
function send(url: string, from: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { localAddress: from, headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const basic = (email: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${email}:${password}`).toString('base64')}` });
const badToken = (i: number) => `flt_${'x'.repeat(40)}${i}`;
const retryAfter = (reply: Reply) => Number(reply.headers['retry-after']);

/** A WebSocket upgrade to the agent gateway from a chosen address: the refusal's status and Retry-After, or 101. */
function upgrade(credential: string, from: string): Promise<{ status: number; retryAfter?: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${harness.base.replace('http', 'ws')}${AGENT_WS_PATH}`, SUBPROTOCOL, { headers: bearer(credential), localAddress: from });
    ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] }));
    ws.once('open', () => {
      ws.close();
      resolve({ status: 101 });
    });
    ws.once('error', () => {});
  });
}

beforeAll(async () => {
  fx = await makeOrg();
  harness = await startHarness({ driver: false });
  // The API as server.ts serves it: the client address resolved from the socket, then the real route wrapper.
  api = http.createServer((req, res) => {
    markClientAddress(req);
    const request = new NextRequest(`http://127.0.0.1${req.url}`, { method: req.method, headers: req.headers as Record<string, string> });
    void me.GET(request, { params: Promise.resolve({}) }).then(async (response) => {
      res.writeHead(response.status, Object.fromEntries(response.headers)).end(await response.text());
    });
  });
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  apiBase = `http://127.0.0.1:${(api.address() as { port: number }).port}/api/v1/me`;
});

afterAll(async () => {
  for (const child of children) child.kill('SIGTERM');
  api?.closeAllConnections();
  await new Promise((resolve) => api?.close(resolve));
  await harness?.close();
});

describe('a valid credential is never refused for other people’s failures', () => {
  it('ten bad API tokens from an address, then a valid token from it is accepted; the next bad one gets 429 with Retry-After', async () => {
    const from = '127.0.0.11';
    for (let i = 0; i < SECRET_LIMIT.max; i++) expect((await send(apiBase, from, bearer(badToken(i)))).status).toBe(401);
    const limited = await send(apiBase, from, bearer(badToken(99)));
    expect(limited.status).toBe(429);
    expect(retryAfter(limited)).toBeGreaterThan(0);
    expect(retryAfter(limited)).toBeLessThanOrEqual(SECRET_LIMIT.windowSeconds);
    expect(JSON.parse(limited.body)).toMatchObject({ error: { code: 'rate_limited', details: { retryAfterSeconds: retryAfter(limited) } } });
    const valid = await send(apiBase, from, bearer(fx.members.operator.token));
    expect(valid.status).toBe(200);
    expect(JSON.parse(valid.body)).toMatchObject({ user: { email: fx.members.operator.email }, via: 'token' });
  });

  it('the binary cache: ten bad credentials, then a valid one from the same address gets the cache', async () => {
    const from = '127.0.0.14';
    const url = `${harness.base}/cache/nix-cache-info`;
    for (let i = 0; i < SECRET_LIMIT.max; i++) expect((await send(url, from, bearer(badToken(i)))).status).toBe(401);
    // Nix sends netrc credentials as Basic; a bad one counts the same.
    const limited = await send(url, from, basic('nix', badToken(99)));
    expect(limited.status).toBe(429);
    expect(retryAfter(limited)).toBeGreaterThan(0);
    const valid = await send(url, from, basic('nix', fx.members.operator.token));
    expect(valid.status).toBe(200);
    expect(valid.body).toContain('StoreDir: /nix/store');
  });

  it('the agent gateway: ten bad host credentials, then the host’s own credential from the same address connects', async () => {
    const from = '127.0.0.15';
    const name = `lim${Math.random().toString(36).slice(2, 8)}`;
    const created = await call(hosts.POST, { method: 'POST', token: fx.members.operator.token, json: { name } });
    expect(created.status).toBe(201);
    const { credential } = await enrollHost({ token: created.json.enrollToken as string });
    for (let i = 0; i < SECRET_LIMIT.max; i++) expect((await upgrade(`hst_${'y'.repeat(40)}${i}`, from)).status).toBe(401);
    const limited = await upgrade(`hst_${'y'.repeat(40)}99`, from);
    expect(limited.status).toBe(429);
    expect(Number(limited.retryAfter)).toBeGreaterThan(0);
    expect((await upgrade(credential, from)).status).toBe(101);
  });
});

describe('the client address comes from the socket', () => {
  it('a forged X-Forwarded-For (or a forged internal header) does not reset the limit', async () => {
    const from = '127.0.0.12';
    for (let i = 0; i < SECRET_LIMIT.max; i++) {
      const forged = { 'x-forwarded-for': `203.0.113.${i}`, 'x-real-ip': `198.51.100.${i}`, 'x-flotilla-client-address': `192.0.2.${i}` };
      expect((await send(apiBase, from, { ...bearer(badToken(i)), ...forged })).status).toBe(401);
    }
    const again = await send(apiBase, from, { ...bearer(badToken(99)), 'x-forwarded-for': '203.0.113.200', 'x-flotilla-client-address': '192.0.2.200' });
    expect(again.status).toBe(429);
    expect(retryAfter(again)).toBeGreaterThan(0);
  });

  it('behind a trusted proxy the right-most untrusted hop is the client, whatever it prepends', async () => {
    const proxy = '127.0.0.13';
    process.env.FLOTILLA_TRUSTED_PROXIES = `${proxy}, 10.0.0.0/8`;
    resetEnvCache();
    try {
      // The client forges the left part; the proxies append what they saw: 198.51.100.7, then an inner proxy.
      for (let i = 0; i < SECRET_LIMIT.max; i++) {
        expect((await send(apiBase, proxy, { ...bearer(badToken(i)), 'x-forwarded-for': `203.0.113.${i}, 198.51.100.7, 10.1.2.3` })).status).toBe(401);
      }
      const limited = await send(apiBase, proxy, { ...bearer(badToken(99)), 'x-forwarded-for': '203.0.113.250, 198.51.100.7' });
      expect(limited.status).toBe(429);
      // Another client behind the same proxy is someone else, and the proxy itself is not limited.
      expect((await send(apiBase, proxy, { ...bearer(badToken(100)), 'x-forwarded-for': '198.51.100.8' })).status).toBe(401);
    } finally {
      delete process.env.FLOTILLA_TRUSTED_PROXIES;
      resetEnvCache();
    }
  });

  it('FLOTILLA_TRUSTED_PROXIES takes addresses and CIDRs, and names a bad entry', () => {
    expect(parseEnv({ FLOTILLA_TRUSTED_PROXIES: '10.0.0.0/8, 127.0.0.1,fd00::/8' }).FLOTILLA_TRUSTED_PROXIES).toEqual(['10.0.0.0/8', '127.0.0.1', 'fd00::/8']);
    expect(parseEnv({}).FLOTILLA_TRUSTED_PROXIES).toBeUndefined();
    expect(() => parseEnv({ FLOTILLA_TRUSTED_PROXIES: '10.0.0.0/33' })).toThrow(/FLOTILLA_TRUSTED_PROXIES: "10.0.0.0\/33" is not an IP address or CIDR/);
    expect(() => parseEnv({ FLOTILLA_TRUSTED_PROXIES: 'proxy.example.com' })).toThrow(/FLOTILLA_TRUSTED_PROXIES/);
  });

  it('resolves addresses the same way everywhere (IPv4-mapped, ports, malformed hops, IPv6 by /64)', () => {
    expect(resolveClientAddress('::ffff:127.0.0.9', '203.0.113.1', null)).toBe('127.0.0.9');
    expect(resolveClientAddress(undefined, '203.0.113.1', null)).toBe('unknown');
    process.env.FLOTILLA_TRUSTED_PROXIES = '10.0.0.0/8,fd00::/8';
    resetEnvCache();
    try {
      expect(resolveClientAddress('10.0.0.1', '198.51.100.9:4711, [2001:db8::1]:443')).toBe('2001:db8::1');
      expect(resolveClientAddress('10.0.0.1', 'junk, 10.2.3.4')).toBe('10.2.3.4');
      expect(resolveClientAddress('fd00::1', undefined)).toBe('fd00::1');
      expect(resolveClientAddress('192.0.2.1', '198.51.100.9')).toBe('192.0.2.1');
    } finally {
      delete process.env.FLOTILLA_TRUSTED_PROXIES;
      resetEnvCache();
    }
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('203.0.113.4')).toBe('203.0.113.4');
  });
});

describe('passwords', () => {
  it('ten wrong passwords for someone’s e-mail do not lock the owner out', async () => {
    const owner = fx.members.requester;
    const attacker = '127.0.0.16';
    const answers: Reply[] = [];
    for (let i = 0; i < 10; i++) answers.push(await send(apiBase, attacker, basic(owner.email, `wrong-${i}`)));
    expect(answers.map((a) => a.status).slice(0, ACCOUNT_DELAY.free + 1)).toEqual(Array(ACCOUNT_DELAY.free + 1).fill(401));
    // The attacker is slowed down, never by more than the cap, and always told for how long.
    const slowed = answers.filter((a) => a.status === 429);
    expect(slowed.length).toBeGreaterThan(0);
    for (const a of slowed) expect(retryAfter(a)).toBeGreaterThan(0);
    for (const a of slowed) expect(retryAfter(a)).toBeLessThanOrEqual(ACCOUNT_DELAY.capSeconds);

    // The owner, from an address that has not failed, gets in at once.
    const fromHome = await send(apiBase, '127.0.0.17', basic(owner.email, PASSWORD));
    expect(fromHome.status).toBe(200);
    expect(JSON.parse(fromHome.body)).toMatchObject({ user: { email: owner.email }, via: 'password' });

    // Even from the attacker's address (a shared NAT), the owner waits a bounded delay, not minutes.
    const started = Date.now();
    const inside = await until(
      'the owner to get in from the shared address',
      async () => {
        const reply = await send(apiBase, attacker, basic(owner.email, PASSWORD));
        if (reply.status === 429) expect(retryAfter(reply)).toBeLessThanOrEqual(ACCOUNT_DELAY.capSeconds);
        return reply.status === 200 ? reply : undefined;
      },
      (ACCOUNT_DELAY.capSeconds + 5) * 1000,
    );
    expect(inside.status).toBe(200);
    expect(Date.now() - started).toBeLessThanOrEqual((ACCOUNT_DELAY.capSeconds + 2) * 1000);
  });

  it('spraying many e-mails from one address is limited, and the limit says when to come back', async () => {
    const sprayer = '127.0.0.18';
    const suffix = Math.random().toString(36).slice(2, 8);
    for (let i = 0; i < SIGN_IN_ADDRESS_LIMIT.max; i++) {
      expect((await send(apiBase, sprayer, basic(`someone-${i}-${suffix}@example.com`, 'Summer2026!'))).status).toBe(401);
    }
    const next = await send(apiBase, sprayer, basic(`someone-else-${suffix}@example.com`, 'Summer2026!'));
    expect(next.status).toBe(429);
    expect(retryAfter(next)).toBeGreaterThan(0);
    expect(retryAfter(next)).toBeLessThanOrEqual(SIGN_IN_ADDRESS_LIMIT.windowSeconds);
    // No password from that address is checked any more (else the 429 would be an oracle)...
    expect((await send(apiBase, sprayer, basic(fx.members.viewer.email, PASSWORD))).status).toBe(429);
    // ...while the same person elsewhere is not affected.
    expect((await send(apiBase, '127.0.0.19', basic(fx.members.viewer.email, PASSWORD))).status).toBe(200);
  });

  it('the sign-in form (next-auth credentials) applies the same limits to the address server.ts resolved', async () => {
    const provider = authOptions().providers.find((p) => p.id === 'credentials') as CredentialsConfig;
    const authorize = (address: string) =>
      provider.options.authorize({ email: fx.members.viewer.email, password: PASSWORD }, { headers: { [CLIENT_ADDRESS_HEADER]: address } });
    await expect(authorize('127.0.0.18')).rejects.toThrow('RateLimited');
    expect(await authorize('127.0.0.24')).toMatchObject({ email: fx.members.viewer.email });
  });
});

describe('counters are shared, bounded and reported', () => {
  it('two limiters on two database clients count the same failures', async () => {
    const url = process.env.DATABASE_URL as string;
    const clients = [postgres(url, { max: 1 }), postgres(url, { max: 1 })];
    try {
      const [a, b] = clients.map((client) => createAuthLimiter({ database: drizzle(client, { schema }), warn: () => {} }));
      const address = '192.0.2.77';
      for (let i = 0; i < SECRET_LIMIT.max / 2; i++) expect(await a?.secretFailed(address, 'a test')).toBeNull();
      for (let i = 0; i < SECRET_LIMIT.max / 2; i++) expect(await b?.secretFailed(address, 'a test')).toBeNull();
      expect(await a?.secretFailed(address, 'a test')).toMatchObject({ retryAfterSeconds: expect.any(Number) });
    } finally {
      await Promise.all(clients.map((client) => client.end()));
    }
  });

  it('two server processes share one limit (the cache of a second process refuses after failures at the first)', async () => {
    const { child, base: other } = await startHarnessProcess();
    children.push(child);
    const from = '127.0.0.20';
    for (let i = 0; i < SECRET_LIMIT.max; i++) {
      const base = i % 2 === 0 ? harness.base : other;
      expect((await send(`${base}/cache/nix-cache-info`, from, bearer(badToken(i)))).status).toBe(401);
    }
    const there = await send(`${other}/cache/nix-cache-info`, from, bearer(badToken(99)));
    expect(there.status).toBe(429);
    expect(retryAfter(there)).toBeGreaterThan(0);
    expect((await send(`${other}/cache/nix-cache-info`, from, bearer(fx.members.operator.token))).status).toBe(200);
  }, 60_000);

  it('rotating headers and e-mails do not grow the counters without bound, and expired ones are swept', async () => {
    const rowsLike = async (pattern: string) => (await db().select({ n: sql<number>`count(*)::int` }).from(authFailures).where(like(authFailures.key, pattern)))[0]?.n;
    const before = await rowsLike('secret:%');
    const from = '127.0.0.21';
    for (let i = 0; i < 60; i++) {
      await send(apiBase, from, { ...bearer(badToken(i)), 'x-forwarded-for': `198.18.${i}.1`, 'x-flotilla-client-address': `198.19.${i}.1` });
    }
    expect(await rowsLike('secret:%')).toBe((before ?? 0) + 1);

    // Spraying 60 e-mails: the address row, then one account row and one account+address row per e-mail until the address is limited.
    const accountsBefore = await rowsLike('account:%');
    const suffix = Math.random().toString(36).slice(2, 8);
    for (let i = 0; i < 60; i++) await send(apiBase, '127.0.0.22', basic(`rotating-${i}-${suffix}@example.com`, 'guess'));
    expect(await rowsLike('account:%')).toBe((accountsBefore ?? 0) + 2 * SIGN_IN_ADDRESS_LIMIT.max);

    // Rows past their window are deleted on a later failure.
    await db().update(authFailures).set({ expiresAt: sql`now() - interval '1 second'` }).where(like(authFailures.key, 'account:%'));
    await createAuthLimiter({ warn: () => {} }).secretFailed('192.0.2.99', 'a test');
    expect(await rowsLike('account:%')).toBe(0);
  });

  it('warns once when an address starts being limited, naming the address and never the secret', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const from = '127.0.0.23';
      const secret = `flt_${'s'.repeat(40)}`;
      for (let i = 0; i < SECRET_LIMIT.max + 5; i++) await send(apiBase, from, bearer(secret));
      const lines = warn.mock.calls.map((args) => args.join(' ')).filter((line) => line.includes(from));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/\[auth\] 127\.0\.0\.23 sent 10 invalid credentials/);
      expect(lines[0]).not.toContain(secret);
      expect(lines[0]).not.toContain('sss');
    } finally {
      warn.mockRestore();
    }
  });
});
