import { describe, expect, it } from 'vitest';
import { nixpkgsDate } from './nixpkgs-date';

describe('nixpkgs date from a NixOS version', () => {
  it('reads the date of a versioned nixpkgs', () => {
    expect(nixpkgsDate('24.05.20240605.abcdef0')).toBe('2024-06-05');
    expect(nixpkgsDate('25.11pre20251001.1234567')).toBe('2025-11-30');
  });
  it('takes the end of the release month for a bare release', () => {
    expect(nixpkgsDate('24.02')).toBe('2024-02-29');
  });
  it('is unknown for anything else, and never invents an impossible date', () => {
    expect(nixpkgsDate(null)).toBeNull();
    // The stand-in nixpkgs is not a release that ages: never "outdated".
    expect(nixpkgsDate('24.11.standin')).toBeNull();
    expect(nixpkgsDate('rolling')).toBeNull();
    expect(nixpkgsDate('24.13')).toBeNull();
    expect(nixpkgsDate('24.05.20240231.abc')).toBeNull();
  });
});
