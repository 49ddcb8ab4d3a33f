#!/usr/bin/env node
// `flotilla` in a checkout (`npx flotilla …`): the CLI, cli/main.ts, run through tsx with
// this repository's tsconfig whatever the working directory.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
await import('../cli/main.ts');
