// Runs in each test file's process before its tests: gives the file its own copy of
// the migrated template database, so files never see each other's rows.
// What Next.js's server loads before anything else (AsyncLocalStorage on globalThis): route
// modules under test import parts of Next that need it, and which of them loads first
// depends on the import graph's timing (an unhandled "AsyncLocalStorage accessed in runtime
// where it is not available" in test/security/headers.test.ts otherwise).
import 'next/dist/server/node-environment-baseline';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, inject } from 'vitest';
import { closeDb } from '@/lib/db/client';
import { resetEnvCache } from '@/lib/env';
import { createDatabase, databaseUrl, uniqueName } from './databases';

const adminUrl = inject('adminUrl');
const templateDb = inject('templateDb');
const name = `${templateDb.replace(/_tpl$/, '')}_${uniqueName('f').slice(2)}`;
await createDatabase(adminUrl, name, templateDb);
process.env.DATABASE_URL = databaseUrl(adminUrl, name);
process.env.AUTH_SECRET ??= 'test-secret-test-secret-test-secret-0123';
process.env.FLOTILLA_URL ??= 'http://localhost:3000';
// Real Nix, but never waiting on the public cache, and no cached "not found" answers between files.
process.env.FLOTILLA_NIX_CONFIG ??= 'substituters =\nnarinfo-cache-negative-ttl = 0';
// The webhook tests' receivers listen on 127.0.0.1 (test/security/webhooks-ssrf.test.ts unsets this).
process.env.FLOTILLA_WEBHOOKS_ALLOW_PRIVATE ??= 'true';
const xdgCache = await mkdtemp(path.join(os.tmpdir(), 'flotilla-xdg-'));
process.env.XDG_CACHE_HOME = xdgCache;
resetEnvCache();

afterAll(async () => {
  await closeDb();
  await rm(xdgCache, { recursive: true, force: true });
});
