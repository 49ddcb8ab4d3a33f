import { describe, expect, it } from 'vitest';
import { EnvError, parseEnv } from './env';

describe('parseEnv', () => {
  it('gives defaults for an empty environment', () => {
    const env = parseEnv({});
    expect(env.PORT).toBe(3000);
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.publicUrl).toBe('http://localhost:3000');
    expect(env.dataDir).toMatch(/\/data$/);
  });

  it('names the bad variable and shows its value', () => {
    expect(() => parseEnv({ PORT: 'eighty' })).toThrow(EnvError);
    expect(() => parseEnv({ PORT: 'eighty' })).toThrow(/PORT: .*"eighty"/);
    expect(() => parseEnv({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL: must be a postgres/);
  });

  it('never echoes secrets', () => {
    try {
      parseEnv({ FLOTILLA_ADMIN_EMAIL: 'a@b.co', FLOTILLA_ADMIN_PASSWORD: 'short' });
      expect.unreachable();
    } catch (error) {
      expect(String(error)).toMatch(/FLOTILLA_ADMIN_PASSWORD: must be at least 12/);
      expect(String(error)).not.toContain('short"');
    }
  });

  it('requires the admin e-mail and password together', () => {
    expect(() => parseEnv({ FLOTILLA_ADMIN_EMAIL: 'a@b.co' })).toThrow(/FLOTILLA_ADMIN_PASSWORD: .*set together/);
  });

  it('treats empty values as unset', () => {
    expect(parseEnv({ DATABASE_URL: '', FLOTILLA_URL: '' }).DATABASE_URL).toBeUndefined();
  });
});
