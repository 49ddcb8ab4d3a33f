// Which network a build's Nix command gets (docs/decisions/0018-build-sandbox.md). Nix's
// sandbox gives ordinary derivations no network, but fixed-output derivations (source
// downloads) and evaluation-time fetches run on the machine's network, loopback
// included. A build that needs nothing from the network runs without one.
import { env } from '@/lib/env';
import type { NixNetwork } from './run';

/** FLOTILLA_BUILD_NETWORK when set; else isolated for the in-repo stand-in (a local flake that fetches nothing), the host's network for a real nixpkgs. */
export function buildNetwork(source: { standin: boolean }): NixNetwork {
  return env().FLOTILLA_BUILD_NETWORK ?? (source.standin ? 'isolated' : 'host');
}
