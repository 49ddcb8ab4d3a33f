// Every job the worker runs: a spec (name, version, zod payload, retry policy, optional
// schedule; lib/jobs/spec.ts) and its handler. Jobs sent from other processes keep
// their spec beside their sender (BUILD_JOB, DELIVER_JOB, EMAIL_JOB), so that senders
// never import handlers; the rest are defined here whole.
import { z } from 'zod';
import { BUILD_JOB } from '@/lib/builds/build-job';
import { runBuild } from '@/lib/builds/run-build';
import { BUILD_SWEEP_JOB, sweepBuilds } from '@/lib/builds/sweep';
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
import { defineJob, type Job } from './register';
import { jobSpec, SWEEP_RETRY } from './spec';

/** A job that only runs on its schedule, with an empty payload; by default the next run is its retry. */
const scheduled = (name: string, cron: string, retry = SWEEP_RETRY) => jobSpec({ name, version: 1, payload: z.object({}), retry, schedule: { cron } });

export const PACKAGE_INDEX_JOB = jobSpec({
  name: 'package-index',
  version: 1,
  payload: z.object({ source: z.string().optional() }),
  // nixpkgs moves: refresh the index daily. A real nixpkgs takes minutes to index; a failure is retried twice.
  retry: { retryLimit: 2, retryDelay: 60, retryBackoff: true, expireInSeconds: 60 * 60 },
  schedule: { cron: '17 3 * * *' },
});

/** Schedules of jobs that no longer exist: the worker removes them, or pg-boss would keep sending jobs nobody works. */
export const RETIRED_SCHEDULES = ['builds-watchdog'];

export const JOBS: Job[] = [
  defineJob(scheduled('cleanup', '*/15 * * * *'), () => cleanup()),
  defineJob(PACKAGE_INDEX_JOB, async ({ source }) => {
    const sources = source ? [resolveNixpkgsSource(source === 'standin' ? null : source)] : await allNixpkgsSources();
    for (const s of sources) await buildPackageIndex(s);
  }),
  defineJob(scheduled('presence-sweep', '* * * * *'), () => sweepPresence()),
  // Fleet health over time: counts every five minutes, rolled into hours and days at seven past each hour.
  defineJob(scheduled('fleet-sample', '*/5 * * * *'), () => sampleFleet()),
  defineJob(scheduled('metrics-rollup', '7 * * * *'), () => rollUp()),
  defineJob(scheduled('alerts-evaluate', '* * * * *'), () => evaluateAlerts()),
  // Daily: a failed pruning is retried within the hour rather than the next day.
  defineJob(scheduled('cache-gc', '41 2 * * *', { retryLimit: 2, retryDelay: 300, retryBackoff: true, expireInSeconds: 60 * 60 }), () => pruneAllCaches()),
  defineJob(BUILD_JOB, ({ buildId }) => runBuild(buildId)),
  // Builds whose worker died, and queued builds whose job was never sent, get a job again within a minute.
  defineJob(BUILD_SWEEP_JOB, () => sweepBuilds()),
  // Outgoing webhooks: one job per delivery (retried by pg-boss), and a sweep for deliveries whose job was never queued.
  defineJob(DELIVER_JOB, ({ deliveryId }) => deliverWebhook(deliveryId)),
  defineJob(scheduled(SWEEP_JOB, '*/5 * * * *'), () => sweepDeliveries()),
  // Notification e-mail: one job per notification row (job id = its id), retried by pg-boss.
  defineJob(EMAIL_JOB, ({ notificationId }) => sendNotificationEmail(notificationId)),
];
