// ESLint for Flotilla: correctness rules, React's hook rules, drizzle's "no delete or update
// without where", and the import boundaries between the parts of the code
// (docs/decisions/0021-linting.md). `npm run lint`; `npm test` runs it too.
import js from '@eslint/js';
import drizzle from 'eslint-plugin-drizzle';
import reactHooks from 'eslint-plugin-react-hooks';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

const SOURCES = '{ts,tsx,mts,cts,js,mjs,cjs}';

// ---------------------------------------------------------------------------------------
// Boundaries. `no-restricted-imports` matches the import string, not the file it resolves
// to, so each boundary is written for both spellings: the `@/` alias by a pattern, and
// relative paths by forbidding any that climb out of the guarded folder (a file d folders
// below the folder's root leaves it with d + 1 leading `../`). Crossing a boundary therefore
// always has to be spelled with `@/`, where the alias patterns see it. ESLint keeps only the
// last options given for a rule, so each folder's entry carries every restriction that
// applies to it (lib/db repeats lib's).
// ---------------------------------------------------------------------------------------

const MAX_DEPTH = 8;

/** Restrictions that hold in every guarded folder. */
const EVERYWHERE = [
  { regex: '(^|/)(?!\\.\\.(/|$))[^/]+/\\.\\.?(/|$)', message: 'Write the import path without `.` or `..` in the middle: boundaries are checked on the path as written.' },
  { regex: '^(/|file:)', message: 'Import by the `@/` alias or a package name, not an absolute path.' },
];

const climbsOut = (depth, root) => ({
  regex: `^(\\.\\./){${depth + 1}}`,
  message: `This relative import leaves ${root}/: import across folders with the \`@/\` alias, so the boundary rules can check it.`,
});

/**
 * One config entry per depth below `root` (so that the relative-path rule knows how far a
 * file may climb), each forbidding `patterns` plus the shared restrictions.
 */
function boundary(root, patterns) {
  return Array.from({ length: MAX_DEPTH + 1 }, (_, depth) => ({
    name: `flotilla/boundary/${root}/depth-${depth}`,
    files: [`${root}/${'*/'.repeat(depth)}*.${SOURCES}`],
    rules: { 'no-restricted-imports': ['error', { patterns: [...patterns, ...EVERYWHERE, climbsOut(depth, root)] }] },
  }));
}

/** `@/<path>` and everything under it. */
const aliasUnder = (...paths) => `^@/(${paths.join('|')})(/|$)`;

// The agent runs on managed hosts as root and is shipped as its own bundle: it may import the
// wire protocol, npm packages and node built-ins, nothing else of the server.
const AGENT_ALLOWED = ['lib/agents/protocol'];
const agentPatterns = (allowed) => [
  {
    regex: `^@/(?!(${allowed.map((p) => p.replaceAll('.', '\\.')).join('|')})$)`,
    message: 'agent/ imports only the wire protocol (`@/lib/agents/protocol`), npm packages and node built-ins.',
  },
];

// lib/ is the server's library: it never reaches up into pages, routes or UI components.
const LIB = [{ regex: aliasUnder('app', 'components'), message: 'lib/ never imports app/ or components/: move the shared piece into lib/.' }];

// lib/db is the data layer (schema, client, migrations): it knows no domain module. It may
// read the wire protocol, a leaf that imports only zod, because some columns store its shapes.
const LIB_DB = [
  ...LIB,
  {
    regex: '^@/(?!(lib/db(/|$)|lib/env$|lib/agents/protocol$))',
    message: 'lib/db imports only lib/db/*, lib/env and the wire protocol: domain code depends on the data layer, never the reverse.',
  },
];

// The agent gateway is the transport and the trust boundary in front of the agents: the
// domains behind it come in as handlers (lib/fleet/agent-handlers.ts), so what a socket
// can reach is one list, not whatever the gateway happens to import.
const GATEWAY_FILE = 'lib/agents/gateway.ts';
const GATEWAY = [
  ...LIB,
  {
    regex: '^@/(?!(lib/agents|lib/api/errors|lib/auth|lib/db|lib/env)(/|$))',
    message: 'lib/agents/gateway.ts imports only lib/agents, lib/auth, lib/db, lib/env and lib/api/errors: domains come in as handlers (lib/fleet/agent-handlers.ts).',
  },
];

// components/ are reusable UI: pages and routes import them, never the other way round.
const COMPONENTS = [{ regex: aliasUnder('app'), message: 'components/ never imports app/: pass what the component needs (a server action too) as a prop from the page.' }];

// The wire protocol is imported by the agent bundle: zod and node built-ins only.
const PROTOCOL_FILE = 'lib/agents/protocol.ts';
const protocolPatterns = (allowed) => [
  {
    regex: `^(?!(zod(/|$)|node:${allowed.map((p) => `|${p.replaceAll('.', '\\.')}$`).join('')}))`,
    message: 'lib/agents/protocol.ts is shipped to the agent: it imports only zod and node: built-ins.',
  },
  ...EVERYWHERE,
];

export default defineConfig(
  {
    ignores: ['node_modules/', '.next/', 'data/', 'dist/', 'drizzle/', 'test-results/', 'playwright-report/', 'next-env.d.ts'],
  },
  {
    files: [`**/*.${SOURCES}`],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // TypeScript checks names; ESLint's no-undef knows no Node or DOM globals here.
      'no-undef': 'off',
      // `_name` marks a parameter or binding that is required by position but unused.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
    },
  },
  {
    // Tests read JSON answers loosely (`json.error.code`); production code keeps the rule.
    files: [`{test,e2e}/**/*.${SOURCES}`, `**/*.test.${SOURCES}`],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: [`{app,components}/**/*.{ts,tsx}`],
    extends: [reactHooks.configs.flat.recommended],
  },
  {
    // Server Components (pages, layouts and the async views they render) run once per
    // request and are never re-rendered by React, so reading the clock there is the request's
    // time, not the impurity the React Compiler rule guards against in client components.
    files: ['app/**/page.tsx', 'app/**/layout.tsx', 'app/(app)/my-machines/my-machines-view.tsx'],
    rules: { 'react-hooks/purity': 'off' },
  },
  {
    files: [`**/*.${SOURCES}`],
    plugins: { drizzle },
    rules: {
      // The code reaches drizzle through `db()` (lib/db/client.ts) and transactions named `tx`.
      'drizzle/enforce-delete-with-where': ['error', { drizzleObjectName: ['db', 'tx'] }],
      'drizzle/enforce-update-with-where': ['error', { drizzleObjectName: ['db', 'tx'] }],
    },
  },
  ...boundary('agent', agentPatterns(AGENT_ALLOWED)),
  ...boundary('lib', LIB),
  ...boundary('lib/db', LIB_DB),
  ...boundary('components', COMPONENTS),
  {
    name: 'flotilla/boundary/gateway',
    files: [GATEWAY_FILE],
    rules: { 'no-restricted-imports': ['error', { patterns: [...GATEWAY, ...EVERYWHERE, climbsOut(1, 'lib')] }] },
  },
  {
    name: 'flotilla/boundary/protocol',
    files: [PROTOCOL_FILE],
    rules: { 'no-restricted-imports': ['error', { patterns: protocolPatterns([]) }] },
  },
);
