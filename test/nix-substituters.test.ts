// A build without a network (the stand-in's default) asks no substituter: before this,
// every such build first spent Nix's five retries on cache.nixos.org (~4 s).
import { afterEach, describe, expect, it } from 'vitest';
import { runNix } from '@/lib/nix/run';

const saved = process.env.FLOTILLA_NIX_CONFIG;
afterEach(() => {
  process.env.FLOTILLA_NIX_CONFIG = saved;
});

/** The substituters real Nix ends up with, from `nix show-config`. */
async function substituters(network: 'host' | 'isolated') {
  const result = await runNix('nix', ['show-config'], { network });
  expect(result.code, result.stderr).toBe(0);
  return /^substituters = (.*)$/m.exec(result.stdout)?.[1]?.trim();
}

describe('substituters', () => {
  it('are off for isolated builds, whatever nix.conf says', async () => {
    // As on a machine whose nix.conf keeps the default (the tests' setup turns it off).
    process.env.FLOTILLA_NIX_CONFIG = 'substituters = https://cache.nixos.org/';
    expect(await substituters('host')).toBe('https://cache.nixos.org/');
    expect(await substituters('isolated')).toBe('');
  });
});
