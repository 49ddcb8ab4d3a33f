import { expect, type APIRequestContext, type BrowserContext } from '@playwright/test';

/** Signs a browser context in through next-auth's endpoints (not the form), as the API would. */
export async function signInViaApi(context: BrowserContext, email: string, password: string) {
  const request = context.request;
  const csrf = await request.get('/api/auth/csrf');
  const { csrfToken } = (await csrf.json()) as { csrfToken: string };
  const res = await request.post('/api/auth/callback/credentials', {
    form: { csrfToken, email, password, json: 'true' },
    maxRedirects: 0,
  });
  expect([200, 302]).toContain(res.status());
  const cookies = await context.cookies();
  expect(cookies.some((c) => c.name.endsWith('next-auth.session-token')), `signed in as ${email}`).toBe(true);
}

export async function createToken(request: APIRequestContext, auth: { email: string; password: string }, scopes: string[]) {
  const res = await request.post('/api/v1/tokens', {
    headers: { authorization: `Basic ${Buffer.from(`${auth.email}:${auth.password}`).toString('base64')}` },
    data: { name: `e2e ${Date.now()}`, scopes },
  });
  expect(res.status()).toBe(201);
  return ((await res.json()) as { token: string }).token;
}

export const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
