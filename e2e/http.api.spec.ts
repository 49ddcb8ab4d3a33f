// The HTTP contract over a real socket: health, OpenAPI, error shapes, WebSocket refusal.
import net from 'node:net';
import { expect, test } from '@playwright/test';
import { ADMIN, E2E_PORT } from './constants';
import { createToken } from './helpers';

test('health reports the database', async ({ request }) => {
  const res = await request.get('/api/health');
  expect(res.status()).toBe(200);
  expect(await res.json()).toMatchObject({ status: 'ok', database: { status: 'ok' } });
});

test('the OpenAPI document lists the routes', async ({ request }) => {
  const doc = (await (await request.get('/api/v1/openapi.json')).json()) as { openapi: string; paths: Record<string, object> };
  expect(doc.openapi).toBe('3.1.0');
  expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/tokens', '/tokens/{id}', '/users', '/users/{id}', '/me']));
});

test('bad requests get JSON errors', async ({ request }) => {
  const token = await createToken(request, ADMIN, ['users.manage', 'users.read']);
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const malformed = await request.post('/api/v1/users', { headers, data: Buffer.from('{"email":') });
  expect(malformed.status()).toBe(400);
  expect((await malformed.json()).error.code).toBe('invalid_json');
  const big = await request.post('/api/v1/users', { headers, data: JSON.stringify({ name: 'x'.repeat(1_100_000) }) });
  expect(big.status()).toBe(413);
  const anonymous = await request.get('/api/v1/users');
  expect(anonymous.status()).toBe(401);
  expect((await anonymous.json()).error.code).toBe('unauthorized');
});

test('metrics need a token with metrics.read', async ({ request }) => {
  expect((await request.get('/metrics')).status()).toBe(401);
  const token = await createToken(request, ADMIN, ['metrics.read']);
  const res = await request.get('/metrics', { headers: { authorization: `Bearer ${token}` } });
  expect(res.status()).toBe(200);
  const text = await res.text();
  expect(text).toContain('flotilla_http_requests_total');
  expect(text).toContain('flotilla_process_cpu_seconds_total');
});

test('WebSocket upgrades on unknown paths are refused cleanly', async () => {
  const reply = await new Promise<string>((resolve, reject) => {
    const socket = net.connect(E2E_PORT, '127.0.0.1', () => {
      socket.write('GET /nope HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    });
    let data = '';
    socket.on('data', (chunk) => (data += chunk.toString()));
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
  });
  expect(reply).toMatch(/^HTTP\/1.1 404 Not Found/);
});
