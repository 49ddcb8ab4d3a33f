// Job definitions: a name, a zod payload schema, a handler, and optionally a cron
// schedule. The worker registers every entry of JOBS; later issues append to it.
import { z } from 'zod';
import { randomUUID } from 'node:crypto';
import { BUILD_JOB, enqueueBuild } from '@/lib/builds/request-build';
import { requeueStaleBuilds, runBuild } from '@/lib/builds/run-build';
import { buildPackageIndex } from '@/lib/packages/build-index';
import { allNixpkgsSources } from '@/lib/packages/org-source';
import { resolveNixpkgsSource } from '@/lib/packages/source';
import { pruneAllCaches } from '@/lib/cache/gc';
import { sweepPresence } from '@/lib/agents/presence';
import { evaluateAlerts } from '@/lib/health/alerts';
import { rollUp, sampleFleet } from '@/lib/health/samples';
import { DELIVER_JOB, SWEEP_JOB, deliverWebhook, sweepDeliveries } from '@/lib/notify/deliver';
import { sendNotificationEmail } from '@/lib/notify/email';
import { EMAIL_JOB } from '@/lib/notify/email-queue';
import { cleanup } from './cleanup';

export type Job = {
  name: string;
  /** Cron expression (UTC) for jobs that run on a schedule. */
  schedule?: string;
  run: (payload: unknown) => Promise<unknown>;
};

export class InvalidJobPayload extends Error {}

export function defineJob<T>(def: { name: string; payload: z.ZodType<T>; schedule?: string; handler: (payload: T) => Promise<unknown> }): Job {
  return {
    name: def.name,
    schedule: def.schedule,
    run: async (raw) => {
      const parsed = def.payload.safeParse(raw ?? {});
      if (!parsed.success) throw new InvalidJobPayload(`job ${def.name}: ${parsed.error.message}`);
      return def.handler(parsed.data);
    },
  };
}

export const JOBS: Job[] = [
  defineJob({ name: 'cleanup', payload: z.object({}), schedule: '*/15 * * * *', handler: () => cleanup() }),
  defineJob({
    name: 'package-index',
    payload: z.object({ source: z.string().optional() }),
    // nixpkgs moves: refresh the index daily.
    schedule: '17 3 * * *',
    handler: async ({ source }) => {
      const sources = source ? [resolveNixpkgsSource(source === 'standin' ? null : source)] : await allNixpkgsSources();
      for (const s of sources) await buildPackageIndex(s);
    },
  }),
  defineJob({ name: 'presence-sweep', payload: z.object({}), schedule: '* * * * *', handler: () => sweepPresence() }),
  // Fleet health over time: counts every five minutes, rolled into hours and days at seven past each hour.
  defineJob({ name: 'fleet-sample', payload: z.object({}), schedule: '*/5 * * * *', handler: () => sampleFleet() }),
  defineJob({ name: 'metrics-rollup', payload: z.object({}), schedule: '7 * * * *', handler: () => rollUp() }),
  defineJob({ name: 'alerts-evaluate', payload: z.object({}), schedule: '* * * * *', handler: () => evaluateAlerts() }),
  defineJob({ name: 'cache-gc', payload: z.object({}), schedule: '41 2 * * *', handler: () => pruneAllCaches() }),
  defineJob({ name: BUILD_JOB, payload: z.object({ buildId: z.uuid() }), handler: ({ buildId }) => runBuild(buildId) }),
  // A build whose worker died is queued again within two minutes instead of waiting for the job to expire.
  defineJob({ name: 'builds-watchdog', payload: z.object({}), schedule: '* * * * *', handler: () => requeueStaleBuilds((id) => enqueueBuild(id, randomUUID())) }),
  // Outgoing webhooks: one job per delivery (retried by pg-boss), and a sweep for deliveries whose job was never queued.
  defineJob({ name: DELIVER_JOB, payload: z.object({ deliveryId: z.uuid() }), handler: ({ deliveryId }) => deliverWebhook(deliveryId) }),
  defineJob({ name: SWEEP_JOB, payload: z.object({}), schedule: '*/5 * * * *', handler: () => sweepDeliveries() }),
  // Notification e-mail: one job per notification row (job id = its id), retried by pg-boss.
  defineJob({ name: EMAIL_JOB, payload: z.object({ notificationId: z.uuid() }), handler: ({ notificationId }) => sendNotificationEmail(notificationId) }),
];
