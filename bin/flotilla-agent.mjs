#!/usr/bin/env node
// `flotilla-agent` in a checkout (`npx flotilla-agent …`): agent/main.ts run through tsx,
// with this repository's tsconfig whatever the working directory, so its `@/` imports
// resolve. Hosts run the one-file bundle instead (`npm run build:agent`).
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
await import('../agent/main.ts');
