// The generated module evaluated by real Nix: what the settings say is what the build sees.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ZStateUnits } from '@/lib/state/schemas';
import { generatedModule } from './generated-module';

function evaluate(text: string) {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'flotilla-gen-')), 'module.nix');
  writeFileSync(file, text);
  const pkgs = '{ hello = "hello-drv"; jq = "jq-drv"; }';
  return JSON.parse(execFileSync('nix-instantiate', ['--eval', '--strict', '--json', '-E', `import ${file} { pkgs = ${pkgs}; }`], { encoding: 'utf8' })) as Record<string, unknown>;
}

describe('generated module', () => {
  it('carries packages and state units exactly, whatever the strings hold', () => {
    const state = ZStateUnits.parse([
      { kind: 'directory', name: 'uploads', path: '/srv/up "quoted" ${HOME} \\ back\tslash\nline', restoreOnRollback: true },
      { kind: 'postgresql', name: 'app-db', database: 'app', port: 5433, snapshot: 'service-change', service: 'postgresql.service' },
    ]);
    const value = evaluate(generatedModule({ packages: ['jq', 'hello'], state }));
    expect(value.environment).toEqual({ systemPackages: ['hello-drv', 'jq-drv'] });
    const { name: _a, ...uploads } = state[0]!;
    const { name: _b, ...db } = state[1]!;
    expect(value.flotilla).toEqual({ state: { uploads, 'app-db': db } });
  });

  it('declares no state option when there are no units (hosts without the agent module still evaluate)', () => {
    expect(evaluate(generatedModule({ packages: [] }))).toEqual({ environment: { systemPackages: [] } });
  });
});
