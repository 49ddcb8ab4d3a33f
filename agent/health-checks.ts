// Health checks after a switch come from two places the server cannot write to: the
// closure itself (every executable in `$toplevel/flotilla/health-checks/`, run with no
// arguments, healthy when it exits 0; shipped by agent/module.nix's `flotilla.healthChecks`)
// and the host's own agent config (`services.flotilla-agent.healthChecks`, a JSON file
// passed as --health-checks). Never argv from the wire (docs/decisions/0017).
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { runFromStore, type StoreExecContext } from './store-exec';

const SHIPPED_TIMEOUT_MS = 2 * 60_000;

export const ZLocalHealthCheck = z.strictObject({
  name: z.string().min(1).max(100),
  command: z.array(z.string().max(1000)).min(1).max(50),
  timeoutSeconds: z.number().int().min(1).max(600).default(30),
});
export type LocalHealthCheck = z.infer<typeof ZLocalHealthCheck>;
export const ZLocalHealthChecks = z.strictObject({ checks: z.array(ZLocalHealthCheck).max(50) });

/** The host's own health checks (--health-checks FILE); a file that is set but unreadable stops the agent at start. */
export async function loadLocalHealthChecks(file: string | undefined): Promise<LocalHealthCheck[]> {
  if (!file) return [];
  return ZLocalHealthChecks.parse(JSON.parse(await fs.readFile(file, 'utf8'))).checks;
}

export type HealthFailure = { name: string; output: string; code: number; timedOut: boolean };

/** Runs the system's shipped checks, then the host's; returns the first failure, or null when all passed. */
export async function runHealthChecks(ctx: StoreExecContext, system: string, local: LocalHealthCheck[]): Promise<HealthFailure | null> {
  const dir = path.join(ctx.paths.storeRoot ?? '/', system, 'flotilla', 'health-checks');
  const shipped = (await fs.readdir(dir).catch(() => [] as string[])).sort();
  const checks = [
    ...shipped.map((name) => ({ name, command: [path.join(system, 'flotilla', 'health-checks', name)], timeoutMs: SHIPPED_TIMEOUT_MS })),
    ...local.map((c) => ({ name: c.name, command: c.command, timeoutMs: c.timeoutSeconds * 1000 })),
  ];
  for (const check of checks) {
    const r = await runFromStore(ctx, check.command, check.timeoutMs);
    if (r.code !== 0) return { name: check.name, output: r.output, code: r.code, timedOut: r.timedOut };
  }
  return null;
}
