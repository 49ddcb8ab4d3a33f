// Finding 10, webhooks: a webhook URL may not reach loopback, private, link-local or
// unique-local addresses (IPv4 and IPv6, IPv4-mapped included, names that resolve to
// them) unless FLOTILLA_WEBHOOKS_ALLOW_PRIVATE says so. Refused with a 400 naming the
// field when the webhook is created, and again when a delivery connects, on the address
// it resolved (a row made while the variable was on, or a name whose answer changed).
// This file runs without the variable the rest of the suite sets.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as webhooksRoute from '@/app/api/v1/webhooks/route';
import { seal } from '@/lib/crypto/secret-box';
import { db } from '@/lib/db/client';
import { webhookDeliveries, webhooks } from '@/lib/db/schema';
import { resetEnvCache } from '@/lib/env';
import { addressKind } from '@/lib/notify/address-guard';
import { deliverWebhook } from '@/lib/notify/deliver';
import { call, makeOrg, type OrgFixture } from '../fixtures';

let fx: OrgFixture;
let receiver: http.Server;
let port: number;
const received: string[] = [];

function allowPrivate(on: boolean) {
  if (on) process.env.FLOTILLA_WEBHOOKS_ALLOW_PRIVATE = 'true';
  else delete process.env.FLOTILLA_WEBHOOKS_ALLOW_PRIVATE;
  resetEnvCache();
}

beforeAll(async () => {
  fx = await makeOrg();
  receiver = http.createServer((req, res) => {
    received.push(req.url ?? '');
    req.resume();
    res.writeHead(200).end('ok');
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  ({ port } = receiver.address() as AddressInfo);
});

beforeEach(() => allowPrivate(false));

afterAll(async () => {
  allowPrivate(true);
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

/** A webhook row as it would be if it had been created while private targets were allowed. */
async function storedWebhook(url: string) {
  const [hook] = await db()
    .insert(webhooks)
    .values({ orgId: fx.org.id, name: `stored ${randomUUID().slice(0, 6)}`, url, secretEnc: seal('whsec_test-secret-0123456789'), createdBy: fx.members.admin.id })
    .returning();
  const [delivery] = await db()
    .insert(webhookDeliveries)
    .values({ webhookId: hook?.id as string, event: 'webhook.test', eventKey: `test:${randomUUID()}`, payload: { summary: 'hello', data: {} } })
    .returning();
  return delivery?.id as string;
}

const deliveryRow = async (id: string) => (await db().select().from(webhookDeliveries).where(eq(webhookDeliveries.id, id)))[0];

describe('webhook targets', () => {
  it('creating a webhook to loopback, private, link-local or unique-local addresses is a 400 on the url field', async () => {
    const refused = [
      `http://127.0.0.1:${port}/hook`,
      `http://localhost:${port}/hook`,
      'http://127.1/hook',
      'http://2130706433/hook', // 127.0.0.1 as one number
      'http://[::1]/hook',
      'http://[::ffff:127.0.0.1]/hook',
      'http://[::ffff:10.0.0.1]/hook',
      'http://[64:ff9b::a9fe:a9fe]/hook', // NAT64 of 169.254.169.254
      'http://[2002:c0a8:101::]/hook', // 6to4 of 192.168.1.1
      'http://10.1.2.3/hook',
      'http://172.16.0.9/hook',
      'https://192.168.1.1/hook',
      'http://100.64.0.1/hook',
      'http://169.254.169.254/latest/meta-data/',
      'http://0.0.0.0/hook',
      'http://[fd12:3456::1]/hook',
      'http://[fe80::1]/hook',
    ];
    for (const url of refused) {
      const res = await call(webhooksRoute.POST, { method: 'POST', token: fx.members.admin.token, json: { name: 'internal', url } });
      expect(res.status, `${url}: ${JSON.stringify(res.json)}`).toBe(400);
      expect(res.json.error.details.issues[0].path).toBe('url');
      expect(res.json.error.message).toMatch(/private|loopback|link-local|reserved|unspecified/);
    }
    const stored = await db().select().from(webhooks).where(eq(webhooks.orgId, fx.org.id));
    expect(stored).toHaveLength(0);
  });

  it('a public address is accepted', async () => {
    const res = await call(webhooksRoute.POST, { method: 'POST', token: fx.members.admin.token, json: { name: 'public', url: 'https://93.184.215.14/hook' } });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    await db().delete(webhooks).where(eq(webhooks.id, res.json.id));
  });

  it('a delivery checks the address it connects to: loopback by number, by name or IPv4-mapped is refused, nothing is sent', async () => {
    for (const url of [`http://127.0.0.1:${port}/by-number`, `http://localhost:${port}/by-name`, `http://[::ffff:127.0.0.1]:${port}/mapped`]) {
      const id = await storedWebhook(url);
      expect(await deliverWebhook(id)).toBe('failed');
      const row = await deliveryRow(id);
      // Refused once, not retried: the address will not become allowed by waiting.
      expect(row, url).toMatchObject({ status: 'failed', attempts: 1, lastStatusCode: null });
      expect(row?.lastError).toMatch(/FLOTILLA_WEBHOOKS_ALLOW_PRIVATE/);
    }
    expect(received).toEqual([]);
  });

  it('with FLOTILLA_WEBHOOKS_ALLOW_PRIVATE the same receiver gets it; link-local stays refused', async () => {
    allowPrivate(true);
    const id = await storedWebhook(`http://localhost:${port}/allowed`);
    expect(await deliverWebhook(id)).toBe('delivered');
    expect(received).toEqual(['/allowed']);
    const res = await call(webhooksRoute.POST, { method: 'POST', token: fx.members.admin.token, json: { name: 'lan', url: `http://127.0.0.1:${port}/lan` } });
    expect(res.status).toBe(201);
    const metadata = await call(webhooksRoute.POST, { method: 'POST', token: fx.members.admin.token, json: { name: 'metadata', url: 'http://169.254.169.254/latest/meta-data/' } });
    expect(metadata.status).toBe(400);
  });

  it('classifies addresses of both families', () => {
    const cases: [string, string][] = [
      ['8.8.8.8', 'public'],
      ['2606:4700:4700::1111', 'public'],
      ['::ffff:8.8.8.8', 'public'],
      ['127.0.0.1', 'private'],
      ['10.255.0.1', 'private'],
      ['172.31.255.255', 'private'],
      ['172.32.0.1', 'public'],
      ['192.168.0.1', 'private'],
      ['::1', 'private'],
      ['fc00::1', 'private'],
      ['fdff:ffff::1', 'private'],
      ['::ffff:192.168.0.1', 'private'],
      ['::ffff:7f00:1', 'private'],
      ['64:ff9b::7f00:1', 'private'],
      ['2002:7f00:1::', 'private'],
      ['169.254.169.254', 'never'],
      ['::ffff:169.254.169.254', 'never'],
      ['fe80::1', 'never'],
      ['0.0.0.0', 'never'],
      ['::', 'never'],
      ['::127.0.0.1', 'never'],
      ['224.0.0.1', 'never'],
      ['255.255.255.255', 'never'],
      ['ff02::1', 'never'],
    ];
    expect(cases.map(([address]) => [address, addressKind(address)])).toEqual(cases);
  });
});
