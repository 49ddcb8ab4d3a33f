import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test } from '@playwright/test';
import { ADMIN } from './constants';
import { signInViaApi, unique } from './helpers';

test('an admin adds a webhook, sees its secret once, and a test event is delivered to it', async ({ page }) => {
  // The receiver: a real HTTP endpoint that the server's worker POSTs to.
  const received: { headers: http.IncomingHttpHeaders; body: string }[] = [];
  const receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const { port } = receiver.address() as AddressInfo;

  try {
    await signInViaApi(page.context(), ADMIN.email, ADMIN.password);
    await page.goto('/settings');
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await expect(page).toHaveURL(/\/settings\/webhooks$/);

    const name = unique('ops');
    await page.getByLabel('Name', { exact: true }).fill(name);
    await page.getByLabel('URL', { exact: true }).fill(`http://127.0.0.1:${port}/flotilla`);
    await page.getByLabel('Format').selectOption('generic');
    await page.getByRole('button', { name: 'Create webhook' }).click();
    const secret = await page.getByTestId('new-webhook-secret').inputValue();
    expect(secret).toMatch(/^whsec_/);
    const row = page.getByTestId(`webhook-${name}`);
    await expect(row).toContainText('Generic JSON');
    await expect(row).toContainText('all');
    await expect(row).toContainText('none yet');

    // Shown once: after a reload only the row is left.
    await page.reload();
    await expect(page.getByTestId('new-webhook-secret')).toHaveCount(0);
    await expect(page.locator('body')).not.toContainText(secret);

    await row.getByRole('button', { name: 'Send test' }).click();
    // The worker delivers in the background; the page follows on its own.
    const delivery = page.locator(`[data-webhook="${name}"]`);
    await expect(delivery).toHaveAttribute('data-status', 'delivered');
    await expect(delivery).toContainText('webhook.test');
    await expect(delivery).toContainText('204');
    await expect(row).toContainText('delivered');

    expect(received).toHaveLength(1);
    const { headers, body } = received[0] as (typeof received)[number];
    const expected = `sha256=${createHmac('sha256', secret).update(`${String(headers['x-flotilla-timestamp'])}.${body}`).digest('hex')}`;
    expect(headers['x-flotilla-signature']).toBe(expected);
    expect(JSON.parse(body)).toMatchObject({ event: 'webhook.test', data: { webhook: { name } } });
    await page.screenshot({ path: 'test-results/screens/webhooks.png', fullPage: true });

    page.once('dialog', (dialog) => dialog.accept());
    await row.getByRole('button', { name: 'Delete' }).click();
    await expect(row).toHaveCount(0);
  } finally {
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  }
});
