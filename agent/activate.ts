// Activation of a `deploy` (DESIGN.md §7, §10): closure size and free space → fetch the
// closure from the fleet cache, trusting only the fleet key → pre-switch checks (an
// error waits for a person's decision, which survives restarts) → set the system
// profile → switch-to-configuration (with a timeout) → health checks → wait for the
// server's confirmation. Any failure after the profile changed re-activates the
// previous generation ("magic rollback" when the confirmation does not come).
// Every Nix command goes through agent/nix.ts: signatures required, pinned keys only.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { TCheckItem, TDeploy, TResult } from '@/lib/agents/protocol';
import { runHealthChecks, type LocalHealthCheck } from './health-checks';
import { Journal, type JournalEntry } from './journal';
import { runAgentNix } from './nix';
import { resolveItem, runPrechecks } from './prechecks';
import { SKIP_SNAPSHOTS, type StateKeeper } from './snapshots/keeper';
import { runFromStore } from './store-exec';
import { currentSystem, failedUnits, storeFree, type SystemPaths } from './system';

export type ActivationContext = {
  stateDir: string;
  paths: SystemPaths;
  /** The pinned cache (agent/trust.ts): never what a welcome said. */
  cacheUrl: string;
  /** The keys whose signatures are accepted now (the pinned key, and a rotated-out one until its time is up). */
  trustedKeys: () => string[];
  credential: string;
  /** Health checks from the host's own agent config; the closure's shipped checks run first. */
  localHealthChecks?: LocalHealthCheck[];
  log: (line: string) => void;
  progress: (phase: 'downloading' | 'activating' | 'confirming', message: string) => void;
  /** Resolves true when the server confirms this target, false when the time is up or `signal` aborts. */
  waitForConfirm: (targetId: string, timeoutMs: number, signal?: AbortSignal) => Promise<boolean>;
  /** Tells the server what the pre-switch checks found (and whether the switch waits for a decision). */
  reportChecks: (deploy: TDeploy, items: TCheckItem[], blocked: boolean) => void;
  /** Resolves with the chosen resolutions (item id → resolution id) of a blocked target; rejects when `signal` aborts. */
  waitForDecision: (deploy: TDeploy, remind: () => void, signal?: AbortSignal) => Promise<Record<string, string>>;
  /** Snapshots and restores of the host's declared state. */
  state: StateKeeper;
  /** Tells the server the host's state units and snapshots changed. */
  reportState: () => void;
  /** Extra environment for switch scripts and health checks (tests record activations with it). */
  env?: Record<string, string>;
};

/**
 * How the coordinator (agent/coordinator.ts) steers the activation it runs. `cancel` is
 * honoured only before the profile changes; `step('profile-set')` is called synchronously
 * just before it does, so a cancel either stops the activation or is refused, never both.
 * `rollback` (its reason is the reason reported) is acted on after the switch finished,
 * never in the middle of one.
 */
export type ActivationControl = {
  cancel: AbortSignal;
  rollback: AbortSignal;
  step: (step: JournalEntry['step']) => void;
};

class StepFailed extends Error {}

/** Steps an activation resumes from after a restart: the closure is fetched, the profile untouched. */
const RESUMABLE: JournalEntry['step'][] = ['checking', 'needs-decision', 'checked', 'snapshotting', 'snapshotted'];
export const profileChanged = (step: JournalEntry['step']) => ['profile-set', 'switched', 'confirming', 'done'].includes(step);
const CRASHED = 'the agent stopped during the activation (crash, kill or reboot)';

function storeArgs(ctx: ActivationContext) {
  return ctx.paths.storeRoot ? ['--store', ctx.paths.storeRoot] : [];
}

function profilePath(ctx: ActivationContext) {
  return ctx.paths.storeRoot ? path.join(ctx.paths.storeRoot, ctx.paths.profile) : ctx.paths.profile;
}

async function writeNetrc(ctx: ActivationContext) {
  const file = path.join(ctx.stateDir, 'netrc');
  await fs.writeFile(file, `machine ${new URL(ctx.cacheUrl).hostname} login host password ${ctx.credential}\n`, { mode: 0o600 });
  return file;
}

async function closureSize(ctx: ActivationContext, storePath: string, netrc: string, signal?: AbortSignal): Promise<number | null> {
  const r = await runAgentNix('nix', ['path-info', '--json', '-S', '--store', ctx.cacheUrl, '--option', 'netrc-file', netrc, storePath], { timeoutMs: 120_000, signal });
  if (r.code !== 0) return null;
  const parsed = JSON.parse(r.stdout) as unknown;
  const entry = Array.isArray(parsed) ? (parsed[0] as { closureSize?: number }) : (Object.values(parsed as Record<string, { closureSize?: number }>)[0] ?? {});
  return entry.closureSize ?? null;
}

async function switchTo(ctx: ActivationContext, system: string, action: 'switch' | 'boot', timeoutMs: number) {
  const r = await runFromStore(ctx, [`${system}/bin/switch-to-configuration`, action], timeoutMs);
  if (r.timedOut) throw new StepFailed(`switch-to-configuration ${action} did not finish within ${Math.round(timeoutMs / 1000)} s\n${r.output}`);
  if (r.code !== 0) throw new StepFailed(`switch-to-configuration ${action} failed (exit ${r.code})\n${r.output}`);
  return r.output;
}

async function healthChecks(ctx: ActivationContext, deploy: TDeploy) {
  // Units that failed with the new system (only where systemd runs; simulated hosts have none).
  const failed = deploy.action === 'switch' ? await failedUnits(ctx.paths.storeRoot) : null;
  if (failed?.length) throw new StepFailed(`systemd units failed after the switch: ${failed.join(', ')}`);
  const failure = await runHealthChecks(ctx, deploy.storePath, ctx.localHealthChecks ?? []);
  if (failure) throw new StepFailed(`health check "${failure.name}" failed${failure.timedOut ? ' (timed out)' : ` (exit ${failure.code})`}\n${failure.output}`);
}

export class Activator {
  readonly journal: Journal;

  constructor(private ctx: ActivationContext) {
    this.journal = new Journal(ctx.stateDir);
  }

  private async rollback(entry: Omit<JournalEntry, 'updatedAt'>, reason: string, logs: string): Promise<Omit<JournalEntry, 'updatedAt'>> {
    const ctx = this.ctx;
    if (!entry.previous) {
      return { ...entry, step: 'done', outcome: 'failed', reason: `${reason}; this was the first deployment on this host, so there is nothing to roll back to`, logsTail: logs };
    }
    ctx.log(`rolling back to ${entry.previous}: ${reason}`);
    const set = await runAgentNix('nix-env', [...storeArgs(ctx), '-p', profilePath(ctx), '--set', entry.previous], { timeoutMs: 120_000 });
    let tail = logs;
    if (set.code !== 0) tail += `\nrollback: nix-env --set failed: ${set.stderr}`;
    else {
      try {
        tail += `\n${await switchTo(ctx, entry.previous, 'switch', 10 * 60_000)}`;
      } catch (error) {
        tail += `\nrollback: ${(error as Error).message}`;
      }
    }
    // The old system runs again; the data it knew comes back for the units that asked for it.
    const restored = await ctx.state.afterRollback(entry.snapshots ?? []);
    if (restored) {
      tail += `\n${restored}`;
      ctx.reportState();
    }
    return { ...entry, step: 'done', outcome: 'rolled-back', reason, logsTail: tail, currentSystem: await currentSystem(ctx.paths) };
  }

  /** Runs a deploy to its end, exactly once per target id, and returns the result to report. */
  async activate(deploy: TDeploy, control?: ActivationControl): Promise<TResult> {
    const ctx = this.ctx;
    const put = async (e: Omit<JournalEntry, 'updatedAt'>) => {
      control?.step(e.step);
      await this.journal.put(e);
    };
    // Before the profile changes, a cancel stops here; a program it was running was killed already.
    const stopIfCancelled = () => {
      if (control?.cancel.aborted) throw new StepFailed('cancelled');
    };
    const stopIfRollbackAsked = () => {
      if (control?.rollback.aborted) throw new StepFailed(String(control.rollback.reason));
    };
    const exec = { ...ctx, signal: control?.cancel };
    const seen = await this.journal.get(deploy.targetId);
    if (seen?.outcome) return this.resultOf(seen);
    if (seen && !RESUMABLE.includes(seen.step)) return this.resultOf(await this.recover(seen));

    const previous = seen?.previous ?? (await currentSystem(ctx.paths));
    let entry: Omit<JournalEntry, 'updatedAt'> = seen ?? {
      targetId: deploy.targetId,
      deploymentId: deploy.deploymentId,
      storePath: deploy.storePath,
      action: deploy.action,
      previous,
      step: 'received',
      outcome: null,
      reason: null,
      logsTail: '',
      currentSystem: previous,
      reported: false,
      deploy,
      checks: null,
      decision: null,
      snapshots: [],
    };
    await put(entry);
    let logs = entry.logsTail;
    try {
      stopIfCancelled();
      if (entry.step === 'received') {
        entry = { ...entry, step: 'downloading' };
        await put(entry);
        await this.fetch(deploy, control?.cancel);
        stopIfCancelled();
        entry = { ...entry, step: 'checking' };
        await put(entry);
      }
      if (entry.step === 'checking') {
        const items = [...(await runPrechecks(exec, deploy.storePath)), ...(await ctx.state.checks(previous, deploy.storePath))];
        stopIfCancelled();
        const blocked = items.some((i) => i.level === 'error');
        entry = { ...entry, checks: items, step: blocked ? 'needs-decision' : 'checked' };
        await put(entry);
        ctx.reportChecks(deploy, items, blocked);
        for (const i of items.filter((x) => x.level !== 'info')) logs += `check ${i.id} (${i.level}): ${i.message}\n`;
      }
      if (entry.step === 'needs-decision') {
        const items = entry.checks ?? [];
        ctx.log(`target ${deploy.targetId} waits for a decision on: ${items.filter((i) => i.level === 'error').map((i) => i.id).join(', ')}`);
        const choices = entry.decision ?? (await ctx.waitForDecision(deploy, () => ctx.reportChecks(deploy, items, true), control?.cancel));
        entry = { ...entry, decision: choices };
        await put(entry);
        for (const item of items.filter((i) => i.level === 'error')) {
          const resolution = choices[item.id] ?? 'abort';
          ctx.progress('activating', `resolving ${item.id}: ${resolution}`);
          const r = await resolveItem(exec, deploy.storePath, item, resolution);
          stopIfCancelled();
          logs += `${r.output}\n`;
          if (!r.ok) throw new StepFailed(r.output);
        }
        entry = { ...entry, step: 'checked', logsTail: logs };
        await put(entry);
      }
      if (entry.step === 'checked' || entry.step === 'snapshotting') {
        entry = { ...entry, step: 'snapshotting' };
        await put(entry);
        const skip = Object.values(entry.decision ?? {}).includes(SKIP_SNAPSHOTS.id);
        try {
          const taken = skip ? [] : await ctx.state.beforeSwitch(deploy, previous, (unit) => ctx.progress('activating', `snapshotting ${unit} before the switch`));
          entry = { ...entry, step: 'snapshotted', snapshots: taken };
          if (taken.length) logs += `snapshots before the switch: ${taken.map((t) => `${t.unit} (${t.snapshotId})`).join(', ')}\n`;
        } catch (error) {
          throw new StepFailed(`${(error as Error).message}\nthe system was not changed`);
        } finally {
          ctx.reportState();
        }
        await put(entry);
      }

      // The last moment a cancel is honoured: from here on it is refused.
      stopIfCancelled();
      control?.step('profile-set');
      ctx.progress('activating', `setting the system profile and running switch-to-configuration ${deploy.action}`);
      const set = await runAgentNix('nix-env', [...storeArgs(ctx), '-p', profilePath(ctx), '--set', deploy.storePath], { timeoutMs: 120_000 });
      if (set.code !== 0) throw new StepFailed(`nix-env --set failed: ${set.stderr.trim()}`);
      entry = { ...entry, step: 'profile-set' };
      await put(entry);
      logs += await switchTo(ctx, deploy.storePath, deploy.action, deploy.switchTimeoutSeconds * 1000);
      entry = { ...entry, step: 'switched' };
      await put(entry);
      stopIfRollbackAsked();
      await healthChecks(ctx, deploy);
      stopIfRollbackAsked();

      entry = { ...entry, step: 'confirming' };
      await put(entry);
      ctx.progress('confirming', `waiting up to ${deploy.confirmTimeoutSeconds} s for the server to confirm`);
      if (!(await ctx.waitForConfirm(deploy.targetId, deploy.confirmTimeoutSeconds * 1000, control?.rollback))) {
        stopIfRollbackAsked();
        throw new StepFailed(`the server did not confirm within ${deploy.confirmTimeoutSeconds} s (magic rollback)`);
      }
      entry = { ...entry, step: 'done', outcome: 'succeeded', logsTail: logs, currentSystem: await currentSystem(ctx.paths) };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (profileChanged(entry.step)) entry = await this.rollback(entry, reason, logs);
      else if (control?.cancel.aborted) {
        // Whatever the step was doing when the cancel came (a killed fetch or check), the system is unchanged.
        entry = { ...entry, step: 'done', outcome: 'cancelled', reason: `${String(control.cancel.reason)} (while ${entry.step}); the system was not changed`, logsTail: logs };
      } else entry = { ...entry, step: 'done', outcome: 'failed', reason, logsTail: logs };
    }
    // A rollback asked for after the last check (while the confirmation came in) is not lost.
    if (entry.outcome === 'succeeded' && control?.rollback.aborted) entry = await this.rollback(entry, String(control.rollback.reason), entry.logsTail);
    await put(entry);
    return this.resultOf(entry);
  }

  /** Closure size against free space, then the closure from the pinned cache, trusting only the pinned keys. */
  private async fetch(deploy: TDeploy, signal?: AbortSignal) {
    const ctx = this.ctx;
    const keys = ctx.trustedKeys();
    if (!keys.length) throw new StepFailed('no trusted key is pinned: enrol this host again');
    const netrc = await writeNetrc(ctx);
    const size = await closureSize(ctx, deploy.storePath, netrc, signal);
    const free = await storeFree(ctx.paths.storeRoot);
    ctx.progress('downloading', `fetching ${deploy.storePath}${size ? ` (${Math.round(size / 1024)} KiB closure, ${Math.round(free / 1024 / 1024)} MiB free)` : ''}`);
    if (size && size > free) throw new StepFailed(`not enough space: the closure needs ${size} bytes, the store has ${free} free`);
    const copy = await runAgentNix(
      'nix',
      // Cached narinfos could carry an earlier key's signature, or say a path is missing that was pushed since: always ask the cache.
      ['copy', '--from', ctx.cacheUrl, ...(ctx.paths.storeRoot ? ['--to', ctx.paths.storeRoot] : []), '--option', 'require-sigs', 'true', '--option', 'trusted-public-keys', keys.join(' '), '--option', 'narinfo-cache-positive-ttl', '0', '--option', 'narinfo-cache-negative-ttl', '0', '--option', 'netrc-file', netrc, deploy.storePath],
      { timeoutMs: 60 * 60_000, trustedKeys: keys, signal },
    );
    if (copy.code !== 0) throw new StepFailed(`fetching the closure failed: ${copy.stderr.trim().split('\n').slice(-5).join('\n')}`);
  }

  /** Activations stopped while checking or waiting for a decision: they go on where they were. */
  async resumable(): Promise<TDeploy[]> {
    return (await this.journal.all()).filter((e) => !e.outcome && RESUMABLE.includes(e.step) && e.deploy).map((e) => e.deploy as TDeploy);
  }

  /**
   * An activation that is not running any more (found half-done at start, or one whose
   * activate() threw): the profile may have changed, so roll back if it did.
   */
  async recover(entry: JournalEntry, reason = CRASHED): Promise<Omit<JournalEntry, 'updatedAt'>> {
    const finished = profileChanged(entry.step) ? await this.rollback(entry, reason, entry.logsTail) : { ...entry, step: 'done' as const, outcome: 'failed' as const, reason };
    await this.journal.put(finished);
    return finished;
  }

  /** activate() threw (a journal it could not write, a bug): this process knows the activation stopped, so it is finished now. */
  async abandon(targetId: string, reason: string): Promise<TResult | null> {
    const entry = await this.journal.get(targetId);
    if (!entry) return null;
    return this.resultOf(entry.outcome ? entry : await this.recover(entry, `the activation stopped unexpectedly: ${reason}`));
  }

  /**
   * Only at the start of the agent process: an unfinished activation found then was cut short
   * by a crash, kill or reboot, and is finished (rolled back if the profile changed). Returns
   * every result not yet acknowledged. A mere reconnect never comes here (see unreported()).
   */
  async pendingResults(): Promise<TResult[]> {
    const results: TResult[] = [];
    for (const entry of await this.journal.all()) {
      if (entry.reported || (!entry.outcome && RESUMABLE.includes(entry.step))) continue;
      results.push(this.resultOf(entry.outcome ? entry : await this.recover(entry)));
    }
    return results;
  }

  /** Finished activations the server has not heard of (for a reconnect: nothing unfinished is touched). */
  async unreported(): Promise<TResult[]> {
    return (await this.journal.all()).filter((e) => e.outcome && !e.reported).map((e) => this.resultOf(e));
  }

  /**
   * A rollback the server asked for, of a target that succeeded: back to the system it
   * replaced, through the same steps as the rollback of a failed switch. Returns the result
   * to report, or why it was refused.
   */
  async rollBack(targetId: string, toSystem: string, reason: string): Promise<TResult | string> {
    const entry = await this.journal.get(targetId);
    if (!entry) return `target ${targetId} is not known on this host`;
    if (entry.outcome !== 'succeeded') return `target ${targetId} ended ${entry.outcome ?? 'unfinished'}: there is nothing of it to roll back`;
    if (entry.previous !== toSystem) return `target ${targetId} replaced ${entry.previous ?? 'nothing'}, not ${toSystem}: a rollback only goes back to the system the target replaced`;
    const running = await currentSystem(this.ctx.paths);
    if (running !== entry.storePath) return `the host no longer runs the system of target ${targetId} (it runs ${running ?? 'nothing'})`;
    const done = { ...(await this.rollback(entry, reason, entry.logsTail)), reported: false };
    await this.journal.put(done);
    return this.resultOf(done);
  }

  async markReported(targetId: string) {
    const entry = await this.journal.get(targetId);
    if (entry) await this.journal.put({ ...entry, reported: true });
  }

  private resultOf(entry: Omit<JournalEntry, 'updatedAt'>): TResult {
    return {
      type: 'result',
      id: crypto.randomUUID(),
      deploymentId: entry.deploymentId,
      targetId: entry.targetId,
      outcome: entry.outcome ?? 'failed',
      reason: entry.reason,
      logsTail: entry.logsTail.slice(-16_000),
      currentSystem: entry.currentSystem,
    };
  }
}
