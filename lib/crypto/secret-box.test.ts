import { afterEach, describe, expect, it } from 'vitest';
import { open, seal } from './secret-box';

const original = process.env.AUTH_SECRET;
afterEach(() => {
  process.env.AUTH_SECRET = original;
});

describe('secret box', () => {
  it('round-trips and never contains the plain text', () => {
    const sealed = seal('flotilla-1:secretkeymaterial');
    expect(sealed).not.toContain('secretkeymaterial');
    expect(open(sealed)).toBe('flotilla-1:secretkeymaterial');
    expect(seal('x')).not.toBe(seal('x'));
  });

  it('refuses tampering and a different AUTH_SECRET', () => {
    const sealed = seal('key');
    const parts = sealed.split('.');
    parts[3] = Buffer.from('tampered').toString('base64url');
    expect(() => open(parts.join('.'))).toThrow(/Cannot decrypt/);
    process.env.AUTH_SECRET = 'another-secret-another-secret-another-secret';
    expect(() => open(sealed)).toThrow(/AUTH_SECRET differs/);
  });
});
