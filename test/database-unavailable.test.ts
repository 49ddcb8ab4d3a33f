// A database that cannot be reached (restarting, down, a cut link) is not a server bug:
// routes answer 503 with Retry-After, so clients back off instead of meeting a 500 storm,
// and the same routes answer normally once it is back. Real PostgreSQL, a real refused
// connection (a closed port), no mocks.
import { describe, expect, it } from 'vitest';
import * as hostsRoute from '@/app/api/v1/hosts/route';
import { closeDb } from '@/lib/db/client';
import { isDatabaseUnavailable } from '@/lib/db/errors';
import { startHarness } from './agent-harness';
import { call, makeOrg } from './fixtures';

describe('the database unavailable', () => {
  it('a route answers 503 with Retry-After while PostgreSQL refuses connections, and 200 once it is back', async () => {
    const fx = await makeOrg();
    const token = fx.members.viewer.token;
    expect((await call(hostsRoute.GET, { token })).status).toBe(200);
    const real = process.env.DATABASE_URL as string;
    try {
      await closeDb();
      const down = new URL(real);
      down.port = '1'; // nothing listens: the connection is refused
      process.env.DATABASE_URL = down.toString();
      const res = await call(hostsRoute.GET, { token });
      expect(res.status, JSON.stringify(res.json)).toBe(503);
      expect(res.json.error.code).toBe('unavailable');
      expect(res.headers.get('retry-after')).toBe('5');
    } finally {
      await closeDb();
      process.env.DATABASE_URL = real;
    }
    expect((await call(hostsRoute.GET, { token })).status).toBe(200);
  });

  it('the binary cache answers 503 with Retry-After too, not a 500', async () => {
    const fx = await makeOrg();
    const harness = await startHarness({ driver: false });
    const real = process.env.DATABASE_URL as string;
    const ask = () => fetch(`${harness.base}/cache/nix-cache-info`, { headers: { authorization: `Bearer ${fx.members.operator.token}` } });
    try {
      expect((await ask()).status).toBe(200);
      await closeDb();
      const down = new URL(real);
      down.port = '1';
      process.env.DATABASE_URL = down.toString();
      const res = await ask();
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
    } finally {
      await closeDb();
      process.env.DATABASE_URL = real;
      await harness.close();
    }
  });

  it('tells connection failures from the request’s own errors', () => {
    expect(isDatabaseUnavailable(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isDatabaseUnavailable(new Error('Failed query', { cause: Object.assign(new Error('terminating connection'), { code: '57P01' }) }))).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('x'), { code: 'CONNECTION_CLOSED' }))).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
    expect(isDatabaseUnavailable(new Error('plain'))).toBe(false);
  });
});
