import { describe, expect, it } from 'vitest';
import { routeGroup } from './metrics';

describe('routeGroup', () => {
  it('keeps label cardinality bounded', () => {
    expect(routeGroup('/api/v1/tokens/3f2a')).toBe('/api/v1/tokens/:param');
    expect(routeGroup('/api/v1/users')).toBe('/api/v1/users');
    expect(routeGroup('/_next/static/chunks/abc.js')).toBe('/_next');
    expect(routeGroup('/settings/users')).toBe('page');
    expect(routeGroup('/api/random/deep/path/here/x')).toBe('/api/:param/:param/:param');
  });
});
