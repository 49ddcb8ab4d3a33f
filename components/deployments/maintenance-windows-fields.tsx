'use client';

// Maintenance windows as rows: hosts with the tag are only updated inside the window
// (UTC; an end before the start runs past midnight). No day ticked means every day.
import { Button } from '@/components/ui/button';
import { Input } from '@/components/ui/form';
import type { TMaintenanceWindow } from '@/lib/db/json-types';

const DAYS = [
  ['S', 'Sunday'],
  ['M', 'Monday'],
  ['T', 'Tuesday'],
  ['W', 'Wednesday'],
  ['T', 'Thursday'],
  ['F', 'Friday'],
  ['S', 'Saturday'],
] as const;

type Props = { value: TMaintenanceWindow[]; onChange: (next: TMaintenanceWindow[]) => void; disabled?: boolean; error?: string };

export function MaintenanceWindowsFields({ value, onChange, disabled, error }: Props) {
  const update = (i: number, change: Partial<TMaintenanceWindow>) => onChange(value.map((w, j) => (j === i ? { ...w, ...change } : w)));
  return (
    <fieldset className="space-y-2">
      <legend className="text-sm font-medium text-slate-700 dark:text-slate-300">Maintenance windows</legend>
      <p className="text-xs text-slate-500 dark:text-slate-400">Hosts with the tag are only updated inside the window (UTC). A window whose end is before its start runs past midnight.</p>
      {value.length === 0 ? <p className="text-sm text-slate-500 dark:text-slate-400">None: hosts are updated whenever their wave comes.</p> : null}
      <ul className="space-y-2">
        {value.map((w, i) => (
          <li key={i} className="flex flex-wrap items-center gap-2 rounded-md bg-slate-50 p-2 ring-1 ring-inset ring-slate-200 dark:bg-slate-800/40 dark:ring-slate-700">
            <Input aria-label={`Window ${i + 1} tag`} placeholder="tag" className="w-32" value={w.tag} disabled={disabled} onChange={(e) => update(i, { tag: e.target.value.trim() })} />
            <Input aria-label={`Window ${i + 1} start`} type="time" className="w-28" value={w.start} disabled={disabled} onChange={(e) => update(i, { start: e.target.value })} />
            <span className="text-slate-400">–</span>
            <Input aria-label={`Window ${i + 1} end`} type="time" className="w-28" value={w.end} disabled={disabled} onChange={(e) => update(i, { end: e.target.value })} />
            <span className="flex gap-0.5" role="group" aria-label={`Window ${i + 1} days`}>
              {DAYS.map(([letter, name], day) => {
                const on = w.days.includes(day);
                return (
                  <label
                    key={name}
                    title={name}
                    className={`flex h-7 w-7 cursor-pointer items-center justify-center rounded text-xs font-medium ring-1 ring-inset ${on ? 'bg-brand-600 text-white ring-brand-600' : 'bg-white text-slate-600 ring-slate-300 dark:bg-slate-900 dark:text-slate-300 dark:ring-slate-700'}`}
                  >
                    <input
                      type="checkbox"
                      className="sr-only"
                      aria-label={name}
                      checked={on}
                      disabled={disabled}
                      onChange={() => update(i, { days: on ? w.days.filter((d) => d !== day) : [...w.days, day].sort() })}
                    />
                    {letter}
                  </label>
                );
              })}
            </span>
            <span className="text-xs text-slate-500">{w.days.length === 0 ? 'every day' : null}</span>
            {disabled ? null : (
              <Button type="button" variant="ghost" size="sm" className="ml-auto" onClick={() => onChange(value.filter((_, j) => j !== i))}>
                Remove
              </Button>
            )}
          </li>
        ))}
      </ul>
      {error ? <p className="text-xs text-red-600 dark:text-red-400">{error}</p> : null}
      {disabled ? null : (
        <Button type="button" variant="secondary" size="sm" onClick={() => onChange([...value, { tag: '', start: '22:00', end: '06:00', days: [] }])}>
          Add a window
        </Button>
      )}
    </fieldset>
  );
}
