import { describe, expect, it } from 'vitest';
import { diffClosures, parseName, parsePathInfo } from './closure';

const H = 'a'.repeat(32);

describe('parsePathInfo', () => {
  it('reads the Nix 2.8 array and the newer object form', () => {
    const old = JSON.stringify([{ path: `/nix/store/${H}-hello-2.12.1`, narSize: 100, references: [`/nix/store/${H}-hello-2.12.1`] }]);
    const neu = JSON.stringify({ [`/nix/store/${H}-hello-2.12.1`]: { narSize: 100, references: [`${H}-hello-2.12.1`] } });
    expect(parsePathInfo(old)).toEqual(parsePathInfo(neu));
  });

  it('refuses missing paths', () => {
    expect(() => parsePathInfo(JSON.stringify([{ path: '/nix/store/x', valid: false }]))).toThrow(/not in the store/);
    expect(() => parsePathInfo(JSON.stringify({ '/nix/store/x': null }))).toThrow(/not in the store/);
  });
});

describe('closure diff', () => {
  it('names added, removed and changed packages and the size delta', () => {
    const p = (name: string, size: number) => ({ path: `/nix/store/${H}-${name}`, narSize: size, references: [] });
    const before = [p('hello-2.12.1', 10), p('jq-1.7.1', 20), p('nixos-system-web-24.11', 5)];
    const after = [p('hello-2.12.2', 12), p('ripgrep-14.1.1', 30), p('nixos-system-web-24.11', 5)];
    expect(diffClosures(before, after)).toEqual({
      added: [{ pname: 'ripgrep', version: '14.1.1' }],
      removed: [{ pname: 'jq', version: '1.7.1' }],
      changed: [{ pname: 'hello', from: '2.12.1', to: '2.12.2' }],
      sizeBefore: 35,
      sizeAfter: 47,
      sizeDelta: 12,
    });
  });

  it('splits names at the first dash before a digit', () => {
    expect(parseName(`/nix/store/${H}-nixos-system-web-01-24.11.standin`)).toEqual({ pname: 'nixos-system-web', version: '01-24.11.standin' });
    expect(parseName(`/nix/store/${H}-etc`)).toEqual({ pname: 'etc', version: '' });
    expect(parseName(`/nix/store/${H}-python3.12-requests-2.32.3`)).toEqual({ pname: 'python3.12-requests', version: '2.32.3' });
  });
});
