// `npm run faults`: the main Vitest setup (a database per file from a migrated template),
// running only the full fault suite, which the normal run leaves out (it takes tens of minutes).
import { defineConfig } from 'vitest/config';
import base from '../../vitest.config';

export default defineConfig({ ...base, test: { ...base.test, include: ['test/faults/full.faults.ts'], testTimeout: 60 * 60_000 } });
