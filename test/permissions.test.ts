// Walks every route handler and every server action with each role and checks the
// outcome against the permission table. A new route or action without a declared
// permission fails the first two tests.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES } from '@/app/api/v1/registry';
import type { ActionMeta } from '@/lib/api/action';
import type { GuardedRoute } from '@/lib/api/route';
import { isPermission, roleAllows, ROLES } from '@/lib/auth/permissions';
import { call, makeOrg, type OrgFixture } from './fixtures';

const root = path.resolve(import.meta.dirname, '..');
const appDir = path.join(root, 'app');
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;

function filesNamed(name: string): string[] {
  return readdirSync(appDir, { recursive: true, encoding: 'utf8' })
    .filter((f) => path.basename(f) === name)
    .map((f) => path.join(appDir, f));
}

const routeFiles = filesNamed('route.ts');
const actionFiles = filesNamed('actions.ts');

async function loadRoutes() {
  const out: { file: string; method: string; handler: GuardedRoute }[] = [];
  for (const file of routeFiles) {
    const mod = (await import(file)) as Record<string, unknown>;
    for (const method of METHODS) if (mod[method]) out.push({ file: path.relative(appDir, file), method, handler: mod[method] as GuardedRoute });
  }
  return out;
}

async function loadActions() {
  const out: { file: string; name: string; meta: ActionMeta | undefined }[] = [];
  for (const file of actionFiles) {
    const mod = (await import(file)) as Record<string, { meta?: ActionMeta }>;
    for (const [name, fn] of Object.entries(mod)) out.push({ file: path.relative(appDir, file), name, meta: fn?.meta });
  }
  return out;
}

function validAccess(access: unknown) {
  return access === 'public' || access === 'authenticated' || (typeof access === 'string' && isPermission(access));
}

/** Dynamic segments get a random UUID, which no object has: allowed calls then fail later, harmlessly. */
function paramsFor(file: string) {
  const params: Record<string, string> = {};
  for (const m of file.matchAll(/\[(?:\.\.\.)?(\w+)\]/g)) params[m[1] as string] = crypto.randomUUID();
  return params;
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
        const allowed = access === 'authenticated' || roleAllows(role, access as never);
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
        const allowed = meta.access === 'authenticated' || roleAllows(role, meta.access);
        const code = res?.ok === false ? res.error.code : 'ok';
        if (allowed && code !== 'invalid_request') wrong.push(`${name} as ${role}: ${code} (expected to pass the guard and fail validation)`);
        if (!allowed && code !== 'forbidden') wrong.push(`${name} as ${role}: ${code} (expected forbidden)`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
