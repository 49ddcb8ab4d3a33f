'use client';

// The rollout strategy as form fields, shared by the start dialog and the fleet
// defaults in settings. Values stay strings while typed; toRollout turns them into a
// ZRollout-shaped object, or says which field is wrong, before anything is sent.
import { Field, Input, Select } from '@/components/ui/form';
import { ZDecisionPolicy, type TRollout } from '@/lib/db/json-types';

export type StrategyFields = {
  canaries: string;
  maxInFlight: string;
  watchSeconds: string;
  maxFailures: string;
  onFailure: TRollout['onFailure'];
  offlineHosts: TRollout['offlineHosts'];
  offlineDeadlineHours: string;
  action: TRollout['action'];
  switchTimeoutSeconds: string;
  confirmTimeoutSeconds: string;
  /** The decision policy, one `item id or pattern = resolution` per line. */
  decisions: string;
};

export type FieldErrors = Partial<Record<keyof StrategyFields, string>>;

export function fieldsFrom(s: TRollout): StrategyFields {
  return {
    canaries: String(s.canaries),
    maxInFlight: String(s.maxInFlight),
    watchSeconds: String(s.watchSeconds),
    maxFailures: String(s.maxFailures),
    onFailure: s.onFailure,
    offlineHosts: s.offlineHosts,
    offlineDeadlineHours: String(Math.round((s.offlineDeadlineSeconds / 3600) * 100) / 100),
    action: s.action,
    switchTimeoutSeconds: String(s.switchTimeoutSeconds),
    confirmTimeoutSeconds: String(s.confirmTimeoutSeconds),
    decisions: Object.entries(s.decisions)
      .map(([pattern, resolution]) => `${pattern} = ${resolution}`)
      .join('\n'),
  };
}

function parseDecisions(text: string): { policy: TRollout['decisions']; error?: string } {
  const entries: [string, string][] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line) continue;
    const [pattern, resolution, extra] = line.split('=').map((x) => x.trim());
    if (!pattern || !resolution || extra !== undefined) return { policy: {}, error: `Line ${i + 1}: write "item id or pattern = resolution"` };
    entries.push([pattern, resolution]);
  }
  const parsed = ZDecisionPolicy.safeParse(Object.fromEntries(entries));
  return parsed.success ? { policy: parsed.data } : { policy: {}, error: parsed.error.issues[0]?.message ?? 'Not a decision policy' };
}

const COUNT_OR_PERCENT = /^(\d+|(100|[1-9]?\d)%)$/;

/** The strategy the fields describe, on top of `base` (which keeps what the form does not show: maintenance windows). */
export function toRollout(f: StrategyFields, base: TRollout): { rollout: TRollout; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const countOrPercent = (key: 'canaries' | 'maxInFlight' | 'maxFailures') => {
    const v = f[key].trim();
    if (!COUNT_OR_PERCENT.test(v)) errors[key] = 'A number of hosts, or a share such as 25%';
    return /^\d+$/.test(v) ? Number(v) : v;
  };
  const whole = (key: 'watchSeconds' | 'switchTimeoutSeconds' | 'confirmTimeoutSeconds') => {
    const v = f[key].trim();
    if (!/^\d+$/.test(v)) errors[key] = 'A whole number of seconds';
    return Number(v);
  };
  const decisions = parseDecisions(f.decisions);
  if (decisions.error) errors.decisions = decisions.error;
  const hours = Number(f.offlineDeadlineHours.trim());
  if (f.offlineDeadlineHours.trim() === '' || !Number.isFinite(hours) || hours < 0) errors.offlineDeadlineHours = 'A number of hours, 0 or more';
  const rollout: TRollout = {
    ...base,
    canaries: countOrPercent('canaries'),
    maxInFlight: countOrPercent('maxInFlight'),
    watchSeconds: whole('watchSeconds'),
    maxFailures: countOrPercent('maxFailures'),
    onFailure: f.onFailure,
    offlineHosts: f.offlineHosts,
    offlineDeadlineSeconds: Math.round(hours * 3600),
    action: f.action,
    switchTimeoutSeconds: whole('switchTimeoutSeconds'),
    confirmTimeoutSeconds: whole('confirmTimeoutSeconds'),
    decisions: decisions.policy,
  };
  return { rollout, errors };
}

const FIELD_KEYS = new Set<string>(['canaries', 'maxInFlight', 'watchSeconds', 'maxFailures', 'onFailure', 'offlineHosts', 'offlineDeadlineHours', 'action', 'switchTimeoutSeconds', 'confirmTimeoutSeconds', 'decisions'] satisfies (keyof StrategyFields)[]);
const SERVER_KEYS: Record<string, keyof StrategyFields> = { offlineDeadlineSeconds: 'offlineDeadlineHours' };

/** A server action's field errors ("rollout.canaries", "defaults.watchSeconds") placed on the fields. */
export function serverFieldErrors(fields: Record<string, string> | undefined): FieldErrors {
  const out: FieldErrors = {};
  for (const [path, message] of Object.entries(fields ?? {})) {
    const key = path.split('.')[1];
    if (!key) continue;
    const field = SERVER_KEYS[key] ?? key;
    if (FIELD_KEYS.has(field)) out[field as keyof StrategyFields] = message;
  }
  return out;
}

type Props = { idPrefix: string; value: StrategyFields; errors: FieldErrors; onChange: (next: StrategyFields) => void; disabled?: boolean };

export function StrategyFieldset({ idPrefix, value, errors, onChange, disabled }: Props) {
  const id = (key: string) => `${idPrefix}-${key}`;
  const text = (key: keyof StrategyFields) => ({
    id: id(key),
    value: value[key],
    disabled,
    onChange: (e: { target: { value: string } }) => onChange({ ...value, [key]: e.target.value }),
    'aria-invalid': errors[key] ? true : undefined,
  });
  return (
    <div className="space-y-4">
      <div className="grid gap-4 sm:grid-cols-2">
        <Field label="Canaries" htmlFor={id('canaries')} error={errors.canaries} hint="Go first, alone. A count or a share: 1, 10%.">
          <Input {...text('canaries')} inputMode="text" autoComplete="off" />
        </Field>
        <Field label="At a time" htmlFor={id('maxInFlight')} error={errors.maxInFlight} hint="Hosts updating at once after the canaries.">
          <Input {...text('maxInFlight')} autoComplete="off" />
        </Field>
        <Field label="Watch canaries for (seconds)" htmlFor={id('watchSeconds')} error={errors.watchSeconds} hint="They must stay healthy this long.">
          <Input {...text('watchSeconds')} inputMode="numeric" autoComplete="off" />
        </Field>
        <Field label="Tolerated failures" htmlFor={id('maxFailures')} error={errors.maxFailures} hint="After the canaries; a count or a share.">
          <Input {...text('maxFailures')} autoComplete="off" />
        </Field>
        <Field label="On failure" htmlFor={id('onFailure')} error={errors.onFailure} hint="A canary failing, or more failures than tolerated.">
          <Select id={id('onFailure')} value={value.onFailure} disabled={disabled} onChange={(e) => onChange({ ...value, onFailure: e.target.value === 'rollback-all' ? 'rollback-all' : 'halt' })}>
            <option value="halt">Halt</option>
            <option value="rollback-all">Roll back all</option>
          </Select>
        </Field>
        <Field label="Offline hosts" htmlFor={id('offlineHosts')} error={errors.offlineHosts} hint={value.offlineHosts === 'wait' ? 'They go when their agent is back.' : 'Left out when their turn comes.'}>
          <Select id={id('offlineHosts')} value={value.offlineHosts} disabled={disabled} onChange={(e) => onChange({ ...value, offlineHosts: e.target.value === 'skip' ? 'skip' : 'wait' })}>
            <option value="wait">Wait for them</option>
            <option value="skip">Skip them</option>
          </Select>
        </Field>
        {value.offlineHosts === 'wait' ? (
          <Field label="Wait for offline hosts up to (hours)" htmlFor={id('offlineDeadlineHours')} error={errors.offlineDeadlineHours} hint="Counted from the start; later they are skipped.">
            <Input {...text('offlineDeadlineHours')} inputMode="decimal" autoComplete="off" />
          </Field>
        ) : null}
      </div>
      <details className="rounded-md ring-1 ring-slate-200 dark:ring-slate-800">
        <summary className="cursor-pointer select-none px-3 py-2 text-sm font-medium text-slate-600 dark:text-slate-300">
          Advanced: activation, timeouts and decisions
          {errors.action || errors.switchTimeoutSeconds || errors.confirmTimeoutSeconds || errors.decisions ? <span className="ml-2 text-xs text-red-600 dark:text-red-400">check these fields</span> : null}
        </summary>
        <div className="grid gap-4 border-t border-slate-200 p-3 sm:grid-cols-2 dark:border-slate-800">
          <Field label="Activation" htmlFor={id('action')} error={errors.action}>
            <Select id={id('action')} value={value.action} disabled={disabled} onChange={(e) => onChange({ ...value, action: e.target.value === 'boot' ? 'boot' : 'switch' })}>
              <option value="switch">Switch now</option>
              <option value="boot">At the next boot</option>
            </Select>
          </Field>
          <Field label="Switch timeout (seconds)" htmlFor={id('switchTimeoutSeconds')} error={errors.switchTimeoutSeconds}>
            <Input {...text('switchTimeoutSeconds')} inputMode="numeric" autoComplete="off" />
          </Field>
          <Field label="Confirm timeout (seconds)" htmlFor={id('confirmTimeoutSeconds')} error={errors.confirmTimeoutSeconds} hint="Without the server's confirmation by then, the host rolls back.">
            <Input {...text('confirmTimeoutSeconds')} inputMode="numeric" autoComplete="off" />
          </Field>
          <div className="sm:col-span-2">
            <Field
              label="Decision policy"
              htmlFor={id('decisions')}
              error={errors.decisions}
              hint="When a pre-switch check blocks a host, these answer without asking anyone, if they cover every error. One rule per line: item id or pattern = resolution, e.g. migrate:* = run-migration, * = abort."
            >
              <textarea
                id={id('decisions')}
                value={value.decisions}
                disabled={disabled}
                rows={3}
                spellCheck={false}
                aria-invalid={errors.decisions ? true : undefined}
                onChange={(e) => onChange({ ...value, decisions: e.target.value })}
                placeholder="flotilla:snapshot-space = skip-snapshots"
                className="block w-full rounded-md border-0 bg-white px-3 py-2 font-mono text-xs ring-1 ring-inset ring-slate-300 dark:bg-slate-900 dark:ring-slate-700"
              />
            </Field>
          </div>
        </div>
      </details>
    </div>
  );
}
