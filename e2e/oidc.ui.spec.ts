// Sign-in through a real OpenID Connect provider (oidc-provider, in this process):
// an invited address gets in and joins; an identity nobody invited does not.
import type { Server } from 'node:http';
import { expect, test } from '@playwright/test';
import Provider from 'oidc-provider';
import { ADMIN, OIDC } from './constants';
import { createToken, unique } from './helpers';

let server: Server;

test.beforeAll(async ({ baseURL }) => {
  const provider = new Provider(`http://127.0.0.1:${OIDC.port}`, {
    clients: [
      {
        client_id: OIDC.clientId,
        client_secret: OIDC.clientSecret,
        redirect_uris: [`${baseURL}/api/auth/callback/oidc`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    // Any login is an account whose e-mail is the login: enough to drive both outcomes.
    findAccount: async (_ctx, id) => ({ accountId: id, claims: async () => ({ sub: `sub-${id}`, email: id, email_verified: true, name: 'Sso Person' }) }),
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    // next-auth v4 reads the profile from the ID token.
    conformIdTokenClaims: false,
    cookies: { keys: ['e2e-oidc-cookie-key'] },
  });
  server = provider.listen(OIDC.port);
});

test.afterAll(() => {
  server?.close();
});

async function signInWithSso(page: import('@playwright/test').Page, login: string) {
  await page.goto('/login');
  await page.getByRole('button', { name: `Continue with ${OIDC.name}` }).click();
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('anything');
  await page.locator('button[type="submit"]').click();
  // The provider asks for consent the first time.
  const consent = page.locator('input[name="prompt"][value="consent"]');
  if (await consent.count()) await page.locator('button[type="submit"]').click();
}

test('an invited address signs in with OIDC and joins; an uninvited identity is turned away', async ({ page, request, browser }) => {
  const token = await createToken(request, ADMIN, ['users.manage']);
  const email = `${unique('sso')}@e2e.example.com`;
  const invited = await request.post('/api/v1/users', { headers: { authorization: `Bearer ${token}` }, data: { email, name: 'Sasha Sso', role: 'viewer' } });
  expect(invited.status()).toBe(201);

  await signInWithSso(page, email);
  await expect(page.getByTestId('current-user')).toHaveText('Sso Person');
  await expect(page.getByText('Role: Viewer')).toBeVisible();

  const stranger = await browser.newContext();
  const other = await stranger.newPage();
  await signInWithSso(other, `${unique('nobody')}@e2e.example.com`);
  await expect(other).toHaveURL(/\/login\?.*error=AccessDenied/);
  await expect(other.getByRole('alert').filter({ hasText: 'no Flotilla account' })).toBeVisible();
  await stranger.close();
});
