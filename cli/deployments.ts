// `flotilla deploy`, `status`, `pause`, `resume`, `cancel`, `rollback`: deployments from the
// command line, following their progress host by host until they end.
import { readFile } from 'node:fs/promises';
import { ZDeploymentStream } from '@/lib/api/streams';
import { isFinalDeployment, isInFlightPhase } from '@/lib/db/statuses';
import { ZCreateDeployment, type TDeploymentView, type TTargetView } from '@/lib/deployments/schemas';
import { api, CliError, followEvents, type CliConfig } from './client';

const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

/** Strategy flags (`--canaries 2 --max-in-flight 25%` …) over the file's own `rollout`. */
export type RolloutFlags = Partial<Record<'canaries' | 'max-in-flight' | 'max-failures' | 'watch' | 'on-failure' | 'offline', string>>;

const countOrPercent = (v: string) => (/^\d+$/.test(v) ? Number(v) : v);

export function rolloutFromFlags(flags: RolloutFlags): Record<string, unknown> {
  const rollout: Record<string, unknown> = {};
  if (flags.canaries) rollout.canaries = countOrPercent(flags.canaries);
  if (flags['max-in-flight']) rollout.maxInFlight = countOrPercent(flags['max-in-flight']);
  if (flags['max-failures']) rollout.maxFailures = countOrPercent(flags['max-failures']);
  if (flags.watch) rollout.watchSeconds = Number(flags.watch);
  if (flags['on-failure']) rollout.onFailure = flags['on-failure'];
  if (flags.offline) rollout.offlineHosts = flags.offline;
  return rollout;
}

const waveName = (wave: number) => (wave === 0 ? 'canary' : `wave ${wave}`);

function targetLine(t: TTargetView) {
  const why = (t.rollbackReason ?? t.error ?? t.waiting ?? '').split('\n')[0];
  return `${t.host.padEnd(24)} ${waveName(t.wave).padEnd(8)} ${t.phase}${why ? `: ${why}` : ''}`;
}

/** One line per host each time its phase changes, and a summary line when the deployment's own status changes. */
export class ProgressPrinter {
  private phases = new Map<string, string>();
  private status = '';

  print(d: TDeploymentView) {
    for (const t of d.targets) {
      const key = `${t.phase}|${t.waiting ?? ''}`;
      if (this.phases.get(t.host) === key) continue;
      this.phases.set(t.host, key);
      out(targetLine(t));
    }
    const done = (d.counts.succeeded ?? 0) + (d.counts.skipped ?? 0);
    const inFlight = d.targets.filter((t) => isInFlightPhase(t.phase)).length;
    const line = `[${d.status}] ${done}/${d.targets.length} done · ${inFlight} in flight${d.reason && isFinalDeployment(d.status) ? ` · ${d.reason}` : ''}`;
    if (line !== this.status) err(line);
    this.status = line;
  }
}

/** 0 only when every host succeeded (or was skipped as the strategy allows). */
export function outcome(d: TDeploymentView): number {
  const bad = d.targets.filter((t) => !['succeeded', 'skipped'].includes(t.phase));
  const skipped = d.counts.skipped ?? 0;
  out(`deployment ${d.id} ${d.status}: ${d.targets.length - bad.length - skipped}/${d.targets.length} hosts succeeded${skipped ? `, ${skipped} skipped` : ''}${d.reason && d.status !== 'succeeded' ? ` (${d.reason})` : ''}`);
  return d.status === 'succeeded' && bad.length === 0 ? 0 : 1;
}

export async function follow(config: CliConfig, id: string): Promise<number> {
  const printer = new ProgressPrinter();
  let last: TDeploymentView | null = null;
  await followEvents(config, `/deployments/${encodeURIComponent(id)}/events`, ZDeploymentStream, (e) => {
    if (e.event !== 'deployment') return;
    last = e.data;
    printer.print(last);
  });
  if (!last) throw new CliError('the server ended the progress stream without a status');
  return outcome(last);
}

export async function deploy(config: CliConfig, file: string, opts: { async: boolean; flags: RolloutFlags }) {
  let body: unknown;
  try {
    body = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const flagged = rolloutFromFlags(opts.flags);
  if (Object.keys(flagged).length && body && typeof body === 'object') {
    const own = (body as { rollout?: object }).rollout ?? {};
    body = { ...body, rollout: { ...own, ...flagged } };
  }
  // Checked here first, so a malformed file or flag fails before anything is sent.
  const parsed = ZCreateDeployment.safeParse(body);
  if (!parsed.success) throw new CliError(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ')}`);
  const created = await api<{ id: string; url: string }>(config, 'POST', '/deployments', parsed.data);
  out(`deployment ${created.id} started: ${created.url}`);
  return opts.async ? 0 : follow(config, created.id);
}

export async function status(config: CliConfig, id: string) {
  const d = await api<TDeploymentView>(config, 'GET', `/deployments/${encodeURIComponent(id)}`);
  for (const t of d.targets) out(targetLine(t));
  if (isFinalDeployment(d.status)) return outcome(d);
  out(`deployment ${d.id} ${d.status}`);
  return 0;
}

export async function control(config: CliConfig, action: 'pause' | 'resume' | 'cancel' | 'rollback', id: string, opts: { async: boolean }) {
  const result = await api<{ id: string; status?: string; url?: string }>(config, 'POST', `/deployments/${encodeURIComponent(id)}/${action}`);
  if (action !== 'rollback') {
    out(`deployment ${result.id} ${result.status}`);
    return 0;
  }
  out(`rollback deployment ${result.id} started: ${result.url}`);
  return opts.async ? 0 : follow(config, result.id);
}
