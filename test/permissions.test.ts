// Walks every route handler and every server action with each role and checks the
// outcome against the permission table. A new route or action without a declared
// permission fails the first two tests.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES } from '@/app/api/v1/registry';
import { requiredPermissions, type Access } from '@/lib/api/route';
import { isPermission, roleAllows } from '@/lib/auth/permissions';
import { ROLES } from '@/lib/db/enums';
import type { Role } from '@/lib/db/schema';
import { readFileSync } from 'node:fs';
import { appDir, actionFiles, loadActions, loadRoutes, pageFiles, routeFiles, segmentsOf } from './entry-points';
import { call, makeOrg, type OrgFixture } from './fixtures';

function validAccess(access: unknown) {
  if (access === 'public' || access === 'authenticated') return true;
  if (typeof access === 'string') return isPermission(access);
  return Array.isArray(access) && access.length > 0 && access.every((p) => typeof p === 'string' && isPermission(p));
}

/** What the permission table says a role may do with an entry point of this access rule. */
function roleMay(role: Role, access: Access) {
  return requiredPermissions(access).every((p) => roleAllows(role, p));
}

/** Dynamic segments get a random UUID, which no object has: allowed calls then fail later, harmlessly. */
function paramsFor(file: string) {
  return Object.fromEntries(segmentsOf(file).map((s) => [s, crypto.randomUUID()]));
}

describe('every entry point declares who may use it', () => {
  it('finds the route and action files', () => {
    expect(routeFiles.length).toBeGreaterThanOrEqual(9);
    expect(actionFiles.length).toBeGreaterThanOrEqual(4);
  });

  it('every exported route handler is guarded with a valid access rule', async () => {
    const missing = (await loadRoutes()).filter((r) => !validAccess(r.handler.meta?.access)).map((r) => `${r.method} ${r.file}`);
    expect(missing).toEqual([]);
  });

  it('every exported server action is guarded with a valid access rule', async () => {
    const missing = (await loadActions()).filter((a) => !validAccess(a.meta?.access)).map((a) => `${a.name} in ${a.file}`);
    expect(missing).toEqual([]);
  });

  it('the OpenAPI registry lists every /api/v1 route file', () => {
    const onDisk = routeFiles
      .map((f) => path.relative(path.join(appDir, 'api', 'v1'), f))
      .filter((f) => !f.startsWith('..') && f !== path.join('openapi.json', 'route.ts'))
      .sort();
    expect(API_ROUTES.map((r) => r.file).sort()).toEqual(onDisk);
  });
});

describe('every page declares who may see it', () => {
  // Pages render on the server through Next.js, so they are checked by what they declare:
  // the one pageCaller(access) call, acted on, and host pages resolving their host through
  // the same reach check as the API (hostPageGuard).
  const PUBLIC_PAGES = ['(auth)/login/page.tsx', '(auth)/setup/page.tsx', '(auth)/invite/[token]/page.tsx'];

  it('finds the pages', () => {
    expect(pageFiles.length).toBeGreaterThanOrEqual(25);
  });

  it('each signed-in page calls pageCaller once with a valid access rule and refuses callers without it', () => {
    const wrong: string[] = [];
    for (const file of pageFiles) {
      const rel = path.relative(appDir, file);
      const source = readFileSync(file, 'utf8');
      const calls = [...source.matchAll(/pageCaller\(\s*'([\w.]+)'\s*\)/g)].map((m) => m[1] as string);
      if (PUBLIC_PAGES.includes(rel)) {
        if (calls.length) wrong.push(`${rel}: a public page that calls pageCaller`);
        continue;
      }
      if (calls.length !== 1 || source.split('pageCaller(').length !== 2) {
        wrong.push(`${rel}: ${calls.length} pageCaller calls with a literal access`);
        continue;
      }
      const access = calls[0] as string;
      if (!validAccess(access) || access === 'public') wrong.push(`${rel}: invalid access ${access}`);
      if (access !== 'authenticated' && !/if \(!allowed\)/.test(source)) wrong.push(`${rel}: declares ${access} but never refuses`);
      if (rel.includes('hosts/[name]/') && !source.includes('hostPageGuard(caller, name,')) wrong.push(`${rel}: a host page that does not resolve its host with hostPageGuard`);
    }
    expect(wrong).toEqual([]);
  });
});

describe('each role gets exactly what the permission table grants', () => {
  let fx: OrgFixture;
  beforeAll(async () => {
    fx = await makeOrg();
  });

  it('route handlers', async () => {
    const routes = (await loadRoutes()).filter((r) => r.handler.meta.access !== 'public');
    expect(routes.length).toBeGreaterThan(5);
    const wrong: string[] = [];
    for (const { file, method, handler } of routes) {
      const access = handler.meta.access;
      const anonymous = await call(handler, { method, params: paramsFor(file) });
      if (anonymous.status !== 401) wrong.push(`${method} ${file} anonymous: ${anonymous.status}`);
      for (const role of ROLES) {
        const res = await call(handler, { method, token: fx.members[role].token, params: paramsFor(file) });
        const allowed = roleMay(role, access);
        const denied = res.status === 401 || res.status === 403;
        if (allowed === denied) wrong.push(`${method} ${file} as ${role}: ${res.status} (expected ${allowed ? 'allowed' : '403'})`);
        if (!allowed && res.status !== 403) wrong.push(`${method} ${file} as ${role}: ${res.status}, not 403`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('server actions', async () => {
    const actions = await loadActions();
    const wrong: string[] = [];
    for (const { file, name, meta } of actions) {
      if (!meta) continue;
      if (meta.access === 'public') {
        // Public actions still validate: an empty input is refused without touching anything.
        const res = await meta.run(null, {});
        if (res?.ok !== false || res.error.code !== 'invalid_request') wrong.push(`${name} (${file}) public: ${JSON.stringify(res)}`);
        continue;
      }
      const anonymous = await meta.run(null, {});
      if (anonymous?.ok !== false || anonymous.error.code !== 'unauthorized') wrong.push(`${name} anonymous: ${JSON.stringify(anonymous)}`);
      for (const role of ROLES) {
        const res = await meta.run(fx.members[role].caller, {});
        const allowed = roleMay(role, meta.access);
        const code = res?.ok === false ? res.error.code : 'ok';
        if (allowed && code !== 'invalid_request') wrong.push(`${name} as ${role}: ${code} (expected to pass the guard and fail validation)`);
        if (!allowed && code !== 'forbidden') wrong.push(`${name} as ${role}: ${code} (expected forbidden)`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
