// Server modules carry the `server-only` marker, so a client bundle that reaches one fails
// Next.js's build; plain Node (tsx, Vitest) maps the marker to an empty module instead
// (decision 0021). These are the pieces that make both true.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

const SERVER_MODULES = [
  'lib/db/client.ts',
  'lib/crypto/secret-box.ts',
  'lib/auth/secrets.ts',
  'lib/auth/passwords.ts',
  'lib/nix/run.ts',
  'lib/cache/keys.ts',
  'lib/auth/next-auth.ts',
  'lib/auth/api-tokens.ts',
  'lib/agents/credentials.ts',
];

it('the modules that must never reach a browser carry the marker', () => {
  const missing = SERVER_MODULES.filter((file) => !/^import 'server-only';$/m.test(read(file)));
  expect(missing).toEqual([]);
});

it('plain Node maps the marker to an empty module, and Next.js builds without that mapping', () => {
  const node = JSON.parse(read('tsconfig.json')) as { compilerOptions: { paths: Record<string, string[]> } };
  expect(node.compilerOptions.paths['server-only']).toEqual(['./lib/server-only.node.ts']);
  const next = JSON.parse(read('tsconfig.next.json')) as { extends: string; compilerOptions: { paths: Record<string, string[]> } };
  expect(next.extends).toBe('./tsconfig.json');
  expect(next.compilerOptions.paths['server-only']).toBeUndefined();
  expect(next.compilerOptions.paths['@/*']).toEqual(['./*']);
  expect(read('next.config.ts')).toMatch(/tsconfigPath: 'tsconfig\.next\.json'/);
});

it('the modules Next.js bundles outside its server layer stay free of it', () => {
  // next.config.ts and proxy.ts import lib/env and lib/http: the marker there would break the build.
  for (const file of ['lib/env.ts', 'lib/http/security-headers.ts', 'proxy.ts', 'next.config.ts']) expect(read(file)).not.toMatch(/^import 'server-only'/m);
});
