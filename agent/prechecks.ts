// Pre-switch checks (DESIGN.md §10): before the profile changes, the agent asks the new
// system what would happen. Built in: `switch-to-configuration dry-activate` (which units
// would restart). Shipped by the closure: every executable in `$toplevel/flotilla/checks/`,
// run with no arguments, prints JSON items `{level, message, resolutions?, id?}` (an array
// or one object per line); run as `<check> resolve <resolution id>` it carries out the
// resolution a person chose. An error item blocks the switch until someone decides.
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { TCheckItem } from '@/lib/agents/protocol';
import { runFromStore, type StoreExecContext } from './store-exec';

const CHECK_TIMEOUT_MS = 5 * 60_000;
/** Offered with every error: stop here and keep the current system. */
export const ABORT = { id: 'abort', label: 'Keep the current system (the deployment fails for this host)' };
/** The `check` of the items the agent makes itself (dry-activate, state, a crashed check): their resolutions need no program run. */
export const BUILTIN = 'flotilla';

const ZReported = z.object({
  id: z.string().min(1).max(150).optional(),
  level: z.enum(['error', 'warning', 'info']),
  message: z.string().min(1).max(4000),
  resolutions: z.array(z.object({ id: z.string().min(1).max(100), label: z.string().min(1).max(200) })).max(9).default([]),
});

/** Items from a check's standard output: a JSON array, one object, or one object per line. */
export function parseCheckOutput(check: string, stdout: string): TCheckItem[] {
  const text = stdout.trim();
  if (!text) return [];
  let raw: unknown[];
  try {
    const whole = JSON.parse(text) as unknown;
    raw = Array.isArray(whole) ? whole : [whole];
  } catch {
    raw = text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as unknown);
  }
  return raw.map((r, i) => {
    const item = ZReported.parse(r);
    return { id: `${check}:${item.id ?? i}`, check, level: item.level, message: item.message, resolutions: item.level === 'error' ? [...item.resolutions.filter((x) => x.id !== ABORT.id), ABORT] : item.resolutions };
  });
}

function checksDir(ctx: StoreExecContext, system: string) {
  return path.join(ctx.paths.storeRoot ?? '/', system, 'flotilla', 'checks');
}

/** Runs the built-in and the shipped checks against the new system (which is in the store, not yet active). */
export async function runPrechecks(ctx: StoreExecContext, system: string): Promise<TCheckItem[]> {
  const items: TCheckItem[] = [];
  const dry = await runFromStore(ctx, [`${system}/bin/switch-to-configuration`, 'dry-activate'], CHECK_TIMEOUT_MS);
  if (dry.code !== 0) {
    items.push({ id: `${BUILTIN}:dry-activate`, check: BUILTIN, level: 'warning', message: `dry-activate failed (exit ${dry.code}): ${dry.output.trim().slice(-1000)}`, resolutions: [] });
  } else if (dry.output.trim()) {
    items.push({ id: `${BUILTIN}:dry-activate`, check: BUILTIN, level: 'info', message: dry.output.trim().slice(-2000), resolutions: [] });
  }
  const dir = checksDir(ctx, system);
  const names = (await fs.readdir(dir).catch(() => [] as string[])).sort();
  for (const name of names) {
    if (name === BUILTIN) {
      items.push({ id: `${BUILTIN}:reserved-name`, check: BUILTIN, level: 'warning', message: `The check ${dir}/${name} was not run: "${BUILTIN}" names the agent's own checks; rename it.`, resolutions: [] });
      continue;
    }
    const r = await runFromStore(ctx, [path.join(system, 'flotilla', 'checks', name)], CHECK_TIMEOUT_MS);
    try {
      const found = parseCheckOutput(name, r.stdout);
      if (r.code !== 0 && !found.some((f) => f.level === 'error')) throw new Error(`exit ${r.code}`);
      items.push(...found);
    } catch (error) {
      // A check that crashes or prints nonsense is itself a finding: nobody knows whether the switch is safe.
      items.push({
        id: `${name}:crashed`,
        check: BUILTIN,
        level: 'error',
        message: `The check ${name} failed${r.timedOut ? ' (timed out)' : ''}: ${error instanceof Error ? error.message : String(error)}\n${r.output.trim().slice(-1000)}`,
        resolutions: [{ id: 'proceed', label: 'Switch anyway' }, ABORT],
      });
    }
  }
  return items;
}

/** Carries out the chosen resolution of one error item: the agent's own items need nothing run (skip-snapshots is read by the activation). */
export async function resolveItem(ctx: StoreExecContext, system: string, item: TCheckItem, resolution: string): Promise<{ ok: boolean; output: string }> {
  if (resolution === ABORT.id) return { ok: false, output: `stopped at the pre-switch check: ${item.message.split('\n')[0]}` };
  if (!item.resolutions.some((r) => r.id === resolution)) return { ok: false, output: `"${resolution}" is not a resolution of ${item.id}` };
  if (item.check === BUILTIN) return { ok: true, output: `${item.id}: ${item.resolutions.find((r) => r.id === resolution)?.label ?? resolution}, as decided` };
  const r = await runFromStore(ctx, [path.join(system, 'flotilla', 'checks', item.check), 'resolve', resolution], CHECK_TIMEOUT_MS);
  return { ok: r.code === 0, output: `${item.check} resolve ${resolution}: ${r.code === 0 ? 'done' : `failed (exit ${r.code})`}\n${r.output.trim().slice(-2000)}` };
}
