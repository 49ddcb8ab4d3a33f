// Writes a build's inputs as a flake: nixosConfigurations.<host> calls the nixpkgs
// source's lib.nixosSystem with the shared modules, the host module and the
// generated package module.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TBuildInputs } from '@/lib/db/json-types';
import { nixString } from '@/lib/nix/literal';

/** Writes the flake into `dir`; the target names it as `seenAs`, where the evaluating nix sees it (lib/nix/jail.ts). */
export async function writeBuildFlake(dir: string, hostName: string, inputs: TBuildInputs, seenAs = dir) {
  await mkdir(path.join(dir, 'modules'), { recursive: true });
  const files: string[] = [];
  for (const m of inputs.modules) {
    const file = `./modules/${m.name}.nix`;
    await writeFile(path.join(dir, file), m.text);
    files.push(file);
  }
  await writeFile(path.join(dir, 'host.nix'), inputs.hostModule);
  await writeFile(path.join(dir, 'packages.nix'), inputs.generatedModule);
  files.push('./host.nix', './packages.nix');
  const flake = `# Written by Flotilla for one build of ${hostName}; do not edit.
{
  description = ${nixString(`Flotilla build of ${hostName}`)};
  inputs.nixpkgs.url = ${nixString(inputs.nixpkgs.flakeRef)};
  outputs = { self, nixpkgs }: {
    nixosConfigurations.${nixString(hostName)} = nixpkgs.lib.nixosSystem {
      system = ${nixString(inputs.system)};
      modules = [ ${files.join(' ')} ];
    };
  };
}
`;
  await writeFile(path.join(dir, 'flake.nix'), flake);
  return `path:${seenAs}#nixosConfigurations.${nixString(hostName)}.config.system.build.toplevel`;
}

/** The directory a local flake reference names (`path:/x`, `/x`, `git+file:///x`), which an evaluation must be able to read; null for a remote one. */
export function localFlakeDir(flakeRef: string): string | null {
  const match = /^(?:path:|git\+file:\/\/|file:\/\/)?(\/[^?#]*)/.exec(flakeRef);
  return match?.[1] ?? null;
}
