// Every entry point of the web app, found on disk: route handlers (route.ts), server
// actions (actions.ts) and pages (page.tsx). The permission and security walks use it,
// so a new file is walked without anyone adding it to a list.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { ActionMeta } from '@/lib/api/action';
import type { GuardedRoute } from '@/lib/api/route';

const root = path.resolve(import.meta.dirname, '..');
export const appDir = path.join(root, 'app');
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;

export function filesNamed(name: string): string[] {
  return readdirSync(appDir, { recursive: true, encoding: 'utf8' })
    .filter((f) => path.basename(f) === name)
    .map((f) => path.join(appDir, f));
}

export const routeFiles = filesNamed('route.ts');
export const actionFiles = filesNamed('actions.ts');
export const pageFiles = filesNamed('page.tsx');

export type LoadedRoute = { file: string; method: string; handler: GuardedRoute };

export async function loadRoutes(): Promise<LoadedRoute[]> {
  const out: LoadedRoute[] = [];
  for (const file of routeFiles) {
    const mod = (await import(file)) as Record<string, unknown>;
    for (const method of METHODS) if (mod[method]) out.push({ file: path.relative(appDir, file), method, handler: mod[method] as GuardedRoute });
  }
  return out;
}

export async function loadActions() {
  const out: { file: string; name: string; meta: ActionMeta | undefined }[] = [];
  for (const file of actionFiles) {
    const mod = (await import(file)) as Record<string, { meta?: ActionMeta }>;
    for (const [name, fn] of Object.entries(mod)) out.push({ file: path.relative(appDir, file), name, meta: fn?.meta });
  }
  return out;
}

/** The dynamic segments of a route file's path (`[name]`, `[...nextauth]`) in order. */
export function segmentsOf(file: string): string[] {
  return [...file.matchAll(/\[(?:\.\.\.)?(\w+)\]/g)].map((m) => m[1] as string);
}
