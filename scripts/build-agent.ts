// `npm run build:agent`: flotilla-agent as one file, so a host needs only Node.js.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export async function buildAgent(outfile = path.join(root, 'dist', 'flotilla-agent.mjs')) {
  await build({
    entryPoints: [path.join(root, 'agent', 'main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    tsconfig: path.join(root, 'tsconfig.json'),
    // ws loads these native speed-ups when present and works without them.
    external: ['bufferutil', 'utf-8-validate'],
    banner: { js: "#!/usr/bin/env node\nimport { createRequire as __flotillaRequire } from 'node:module'; const require = __flotillaRequire(import.meta.url);" },
    legalComments: 'none',
    logLevel: 'warning',
  });
  return outfile;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`built ${await buildAgent(process.argv[2])}`);
}
