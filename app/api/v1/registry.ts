// Every REST route under /api/v1 with its path, for the OpenAPI document. The
// permission tests check that this list matches the route files on disk.
import type { GuardedRoute } from '@/lib/api/route';
import * as me from './me/route';
import * as tokenById from './tokens/[id]/route';
import * as tokens from './tokens/route';
import * as userById from './users/[id]/route';
import * as users from './users/route';

export type RouteModule = Partial<Record<'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', GuardedRoute>>;

export const API_ROUTES: { path: string; file: string; module: RouteModule }[] = [
  { path: '/me', file: 'me/route.ts', module: me },
  { path: '/tokens', file: 'tokens/route.ts', module: tokens },
  { path: '/tokens/{id}', file: 'tokens/[id]/route.ts', module: tokenById },
  { path: '/users', file: 'users/route.ts', module: users },
  { path: '/users/{id}', file: 'users/[id]/route.ts', module: userById },
];
