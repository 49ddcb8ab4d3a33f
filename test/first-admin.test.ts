// Runs on its own empty database (each test file gets one).
import { describe, expect, it } from 'vitest';
import { checkPassword } from '@/lib/auth/next-auth';
import { hasAnyUser, setupInstance } from '@/lib/orgs/first-admin';

describe('first-run setup', () => {
  it('works exactly once, even when two people submit at the same time', async () => {
    expect(await hasAnyUser()).toBe(false);
    const input = (email: string) => ({ orgName: 'Acme IT', name: 'Ada', email, password: 'first-admin-password' });
    const results = await Promise.allSettled([setupInstance(input('ada@example.com'), 'setup-page'), setupInstance(input('eve@example.com'), 'setup-page')]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected');
    expect(String(rejected?.reason)).toMatch(/already set up/);
    expect(await hasAnyUser()).toBe(true);
    const [ada, eve] = await Promise.all([checkPassword('ada@example.com', 'first-admin-password'), checkPassword('eve@example.com', 'first-admin-password')]);
    expect([ada.ok, eve.ok].filter(Boolean)).toHaveLength(1);
  });
});
