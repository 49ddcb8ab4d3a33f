// Which nixpkgs a fleet builds from: the organisation's setting, else FLOTILLA_NIXPKGS,
// else the in-repo stand-in (nix/standin), referenced as a `path:` flake so Git's view
// of untracked files never matters.
import path from 'node:path';

export type NixpkgsSource = { key: string; flakeRef: string; standin: boolean };

export function standinFlakeRef(): string {
  return `path:${path.join(/* turbopackIgnore: true */ process.cwd(), 'nix', 'standin')}`;
}

export function resolveNixpkgsSource(orgNixpkgs: string | null): NixpkgsSource {
  const configured = orgNixpkgs ?? process.env.FLOTILLA_NIXPKGS?.trim();
  if (configured) return { key: configured, flakeRef: configured, standin: false };
  return { key: 'standin', flakeRef: standinFlakeRef(), standin: true };
}
