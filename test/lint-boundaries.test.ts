// The import boundaries and drizzle's where-rules in eslint.config.mjs, proven to fire: each
// case lints a snippet as if it were a file in the guarded folder, through ESLint's own API
// and the repository's config, and expects the boundary's message (or none, for imports
// that must stay allowed). Removing or loosening a rule fails its case.
import path from 'node:path';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');
let eslint: ESLint;

beforeAll(() => {
  eslint = new ESLint({ cwd: root });
});

async function messages(file: string, code: string, rule: string) {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  if (!result) throw new Error(`ESLint returned nothing for ${file}`);
  return result.messages.filter((m) => m.ruleId === rule).map((m) => m.message);
}

const restricted = (file: string, code: string) => messages(file, code, 'no-restricted-imports');

const AGENT = 'agent/ imports only the wire protocol';
const PROTOCOL = 'lib/agents/protocol.ts is shipped to the agent';
const LIB = 'lib/ never imports app/ or components/';
const LIB_DB = 'lib/db imports only lib/db/*, lib/env and the wire protocol';
const COMPONENTS = 'components/ never imports app/';
const GATEWAY = 'lib/agents/gateway.ts imports only lib/agents, lib/auth, lib/db, lib/env and lib/api/errors';
const leaves = (folder: string) => `This relative import leaves ${folder}/`;

// [file the snippet pretends to be, import statement, message expected]
const refused: [string, string, string][] = [
  // agent/**: the wire protocol only.
  ['agent/lint-probe.ts', "import '@/lib/state/schemas';", AGENT],
  ['agent/lint-probe.ts', "import '@/lib/agents/credentials';", AGENT],
  ['agent/lint-probe.ts', "import '@/lib/nix/run';", AGENT],
  ['agent/snapshots/lint-probe.ts', "import type { Caller } from '@/lib/auth/caller';\nexport type C = Caller;", AGENT],
  ['agent/lint-probe.ts', "export { db } from '@/lib/db/client';", AGENT],
  ['agent/lint-probe.ts', "import '@/lib/agents/protocol/../gateway';", 'without `.` or `..` in the middle'],
  ['agent/lint-probe.ts', "import '../lib/nix/run';", leaves('agent')],
  ['agent/snapshots/lint-probe.ts', "import '../../lib/state/schemas';", leaves('agent')],
  // lib/agents/protocol.ts: zod and node: built-ins only.
  ['lib/agents/protocol.ts', "import '@/lib/db/client';", PROTOCOL],
  ['lib/agents/protocol.ts', "import './gateway';", PROTOCOL],
  ['lib/agents/protocol.ts', "import 'ws';", PROTOCOL],
  // lib/agents/gateway.ts: the domains behind it come in as handlers.
  ['lib/agents/gateway.ts', "import '@/lib/deployments/delivery';", GATEWAY],
  ['lib/agents/gateway.ts', "import '@/lib/state/restore';", GATEWAY],
  ['lib/agents/gateway.ts', "import '@/lib/cache/keys';", GATEWAY],
  ['lib/agents/gateway.ts', "import '@/lib/fleet/agent-handlers';", GATEWAY],
  ['lib/agents/gateway.ts', "import '@/components/ui/card';", LIB],
  // lib/** never imports app/** or components/**.
  ['lib/hosts/lint-probe.ts', "import '@/app/api/v1/registry';", LIB],
  ['lib/hosts/lint-probe.ts', "import '@/components/ui/card';", LIB],
  ['lib/hosts/lint-probe.ts', "import '@/lib/../app/api/v1/registry';", 'without `.` or `..` in the middle'],
  ['lib/hosts/lint-probe.ts', "import '../../app/api/v1/registry';", leaves('lib')],
  ['lib/auth/limiter/lint-probe.ts', "import '../../../components/ui/card';", leaves('lib')],
  // lib/db/** imports no domain.
  ['lib/db/lint-probe.ts', "import '@/lib/hosts/inventory';", LIB_DB],
  ['lib/db/lint-probe.ts', "import '@/lib/auth/caller';", LIB_DB],
  ['lib/db/lint-probe.ts', "import '@/app/api/v1/registry';", LIB],
  ['lib/db/lint-probe.ts', "import '../hosts/inventory';", leaves('lib/db')],
  // components/** never imports app/**.
  ['components/ui/lint-probe.tsx', "import '@/app/(app)/builds/actions';", COMPONENTS],
  ['components/lint-probe.tsx', "import '../app/(app)/settings/actions';", leaves('components')],
  ['components/deployments/lint-probe.tsx', "import '../../app/(app)/deployments/actions';", leaves('components')],
];

const allowed: [string, string][] = [
  ['agent/lint-probe.ts', "import '@/lib/agents/protocol';\nimport 'node:fs';\nimport 'ws';\nimport './backoff';"],
  ['agent/snapshots/lint-probe.ts', "import '../system';\nimport './store';"],
  ['lib/agents/protocol.ts', "import 'zod';\nimport 'node:crypto';"],
  ['lib/agents/gateway.ts', "import '@/lib/db/client';\nimport '@/lib/auth/authorization';\nimport '@/lib/api/errors';\nimport './protocol';\nimport 'ws';"],
  ['lib/hosts/lint-probe.ts', "import '@/lib/db/client';\nimport '../auth/caller';\nimport './inventory';\nimport 'drizzle-orm';"],
  ['lib/db/lint-probe.ts', "import '@/lib/db/schema';\nimport '@/lib/env';\nimport './schema';\nimport 'postgres';\nimport '@/lib/agents/protocol';"],
  ['components/ui/lint-probe.tsx', "import '@/components/ui/button';\nimport '../shell/icons';\nimport '@/lib/api/action';"],
  ['app/(app)/lint-probe.tsx', "import '@/components/ui/card';\nimport '@/lib/db/client';\nimport '../api/v1/registry';"],
];

describe('import boundaries (eslint no-restricted-imports)', () => {
  it.each(refused)('%s: %s is refused', async (file, code, message) => {
    const found = await restricted(file, code);
    expect(found.some((m) => m.includes(message)), `expected "${message}" among ${JSON.stringify(found)}`).toBe(true);
  });

  it.each(allowed)('%s: %s is allowed', async (file, code) => {
    expect(await restricted(file, code)).toEqual([]);
  });
});

describe('drizzle: no delete or update without where', () => {
  const file = 'lib/hosts/lint-probe.ts';
  const head = "import { eq } from 'drizzle-orm';\nimport { db, type Tx } from '@/lib/db/client';\nimport { hosts } from '@/lib/db/schema';\n";

  it('refuses db().delete(table) and tx.update(table).set() without where', async () => {
    const code = `${head}export async function wipe(tx: Tx) {\n  await db().delete(hosts);\n  await tx.update(hosts).set({ name: 'x' });\n}\n`;
    expect(await messages(file, code, 'drizzle/enforce-delete-with-where')).toHaveLength(1);
    expect(await messages(file, code, 'drizzle/enforce-update-with-where')).toHaveLength(1);
  });

  it('accepts them with a where', async () => {
    const code = `${head}export async function one(tx: Tx, id: string) {\n  await db().delete(hosts).where(eq(hosts.id, id));\n  await tx.update(hosts).set({ name: 'x' }).where(eq(hosts.id, id));\n}\n`;
    expect(await messages(file, code, 'drizzle/enforce-delete-with-where')).toEqual([]);
    expect(await messages(file, code, 'drizzle/enforce-update-with-where')).toEqual([]);
  });
});
