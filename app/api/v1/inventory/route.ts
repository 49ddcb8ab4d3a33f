import { z } from 'zod';
import { route } from '@/lib/api/route';
import { AppError } from '@/lib/api/errors';
import { hostsRunning, searchInventory } from '@/lib/health/inventory';

export const GET = route(
  {
    access: 'fleet.read',
    summary: 'Software inventory from the hosts\' current closures: ?package=openssl&version=3.0 lists the hosts running it; ?q=open finds packages',
    query: z.object({ package: z.string().trim().min(1).max(200).optional(), version: z.string().trim().max(100).optional(), q: z.string().trim().max(100).optional() }),
  },
  async ({ caller, query }) => {
    if (query.package) return hostsRunning(caller, query.package, query.version);
    if (query.q !== undefined) return { packages: await searchInventory(caller, query.q) };
    throw new AppError('invalid_request', 'Ask for a package (?package=openssl, optionally &version=3.0) or search (?q=open)');
  },
);
