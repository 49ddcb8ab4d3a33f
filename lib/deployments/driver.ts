// The rollout driver, run by every worker: it advances active deployments when told
// (NOTIFY on the rollout channel: a result, a new deployment, a host back online) and
// once a second regardless, for timers (canary watch, offline deadlines, maintenance
// windows) and for wake-ups lost while no driver ran. All state is in PostgreSQL, so a
// driver can die at any point and another (or the same, restarted) carries on.
import { sqlClient } from '@/lib/db/client';
import { activeDeploymentIds, advanceDeployment, RE_ANNOUNCE_SECONDS, reannounceStuckTargets } from './advance';
import { ROLLOUT_CHANNEL } from './events';

export type RolloutDriver = { stop: () => Promise<void>; passes: () => number };

export function startRolloutDriver(opts: { tickMs?: number; log?: (line: string) => void } = {}): RolloutDriver {
  const log = opts.log ?? ((line: string) => console.log(`[rollout] ${line}`));
  const tickMs = opts.tickMs ?? 1000;
  const nudged = new Set<string>();
  let stopped = false;
  let running: Promise<void> | null = null;
  let again = false;
  let passes = 0;
  let lastSweep = 0;
  let lastReannounce = Date.now();

  async function pass() {
    // The timer's own wake-ups sweep every active deployment; a nudge between them only its own.
    const sweep = Date.now() - lastSweep >= tickMs * 0.9;
    const ids = sweep ? await activeDeploymentIds() : [];
    for (const id of nudged) if (!ids.includes(id)) ids.push(id);
    nudged.clear();
    if (sweep) lastSweep = Date.now();
    for (const id of ids) {
      if (stopped) return;
      try {
        await advanceDeployment(id);
      } catch (error) {
        log(`advancing deployment ${id} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (sweep && Date.now() - lastReannounce >= RE_ANNOUNCE_SECONDS * 1000) {
      lastReannounce = Date.now();
      await reannounceStuckTargets().catch((error) => log(`re-announcing targets failed: ${String(error)}`));
    }
    passes += 1;
  }

  /** One pass at a time; a wake-up during a pass runs another right after it. */
  function kick() {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = pass()
      .catch((error) => log(`rollout pass failed: ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => {
        running = null;
        if (again) {
          again = false;
          kick();
        }
      });
  }

  const timer = setInterval(kick, tickMs);
  timer.unref();
  const listening = sqlClient()
    .listen(ROLLOUT_CHANNEL, (payload) => {
      if (payload) nudged.add(payload);
      kick();
    })
    .catch((error) => {
      log(`cannot LISTEN on ${ROLLOUT_CHANNEL}: ${String(error)}; advancing on the timer only`);
      return null;
    });
  kick();

  return {
    passes: () => passes,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await (await listening)?.unlisten();
      await running;
    },
  };
}
