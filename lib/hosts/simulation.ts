// Whether this server runs from a checkout, where `npx flotilla-agent` works, and where a
// host simulated beside it keeps its state: under the data directory, so removing ./data
// forgets the simulated hosts together with the server that knew them.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { env } from '@/lib/env';
import type { TSimulation } from './enroll-commands';

export function simulation(): TSimulation | null {
  const checkout = /* turbopackIgnore: true */ process.cwd();
  if (!existsSync(path.join(/* turbopackIgnore: true */ checkout, 'bin', 'flotilla-agent.mjs'))) return null;
  return { checkout, stateRoot: path.join(env().dataDir, 'simulated-hosts') };
}
