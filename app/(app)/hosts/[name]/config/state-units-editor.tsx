'use client';

import { useState } from 'react';
import { Button } from '@/components/ui/button';
import { Badge } from '@/components/ui/card';
import { Input, Select } from '@/components/ui/form';
import { describeUnit, SNAPSHOT_POLICIES, SNAPSHOT_POLICY_LABELS, STATE_KINDS, ZStateUnit, ZStateUnits, type TStateKind, type TStateUnit } from '@/lib/state/schemas';

const KIND_LABELS: Record<TStateKind, string> = { directory: 'Directory', postgresql: 'PostgreSQL database', mysql: 'MySQL / MariaDB database' };

type Draft = { kind: TStateKind; name: string; path: string; database: string; host: string; port: string; user: string; snapshot: string; keep: string; restoreOnRollback: boolean; service: string };
const EMPTY: Draft = { kind: 'directory', name: '', path: '', database: '', host: '', port: '', user: '', snapshot: 'every-switch', keep: '5', restoreOnRollback: false, service: '' };

/** The draft as a unit declaration: empty fields are left to the defaults (and to the NixOS module's service defaults). */
function toUnit(d: Draft): unknown {
  const optional = (v: string) => (v.trim() ? v.trim() : undefined);
  const common = { name: d.name.trim(), snapshot: d.snapshot, keep: Number(d.keep), restoreOnRollback: d.restoreOnRollback, service: optional(d.service) };
  if (d.kind === 'directory') return { ...common, kind: d.kind, path: d.path.trim() };
  return { ...common, kind: d.kind, database: d.database.trim(), host: optional(d.host), port: d.port.trim() ? Number(d.port) : undefined, user: optional(d.user) };
}

/** State units of the host's structured settings: listed, removed, added with the shared schema's checks. */
export function StateUnitsEditor({ units, onChange, editable }: { units: TStateUnit[]; onChange: (units: TStateUnit[]) => void; editable: boolean }) {
  const [draft, setDraft] = useState<Draft | null>(null);
  const [error, setError] = useState<string>();
  const set = (change: Partial<Draft>) => setDraft((d) => (d ? { ...d, ...change } : d));

  function add() {
    if (!draft) return;
    const parsed = ZStateUnit.safeParse(toUnit(draft));
    const next = parsed.success ? ZStateUnits.safeParse([...units, parsed.data]) : parsed;
    if (!next.success) {
      const issue = next.error.issues[0];
      setError(`${String(issue?.path.at(-1) ?? 'unit')}: ${issue?.message}`);
      return;
    }
    onChange(next.data);
    setDraft(null);
    setError(undefined);
  }

  return (
    <div className="space-y-3 text-sm">
      {units.length === 0 ? <p className="text-slate-500">None. Declared units are snapshotted before switches and can be restored.</p> : null}
      <ul className="space-y-2" aria-label="State units">
        {units.map((u) => (
          <li key={u.name} className="rounded-md px-3 py-2 ring-1 ring-slate-200 dark:ring-slate-800">
            <div className="flex items-center justify-between gap-2">
              <span className="font-medium">{u.name}</span>
              {editable ? (
                <button type="button" className="text-xs text-red-600 hover:underline" onClick={() => onChange(units.filter((x) => x.name !== u.name))}>
                  Remove
                </button>
              ) : null}
            </div>
            <p className="break-all text-xs text-slate-500">{describeUnit(u)}</p>
            <div className="mt-1 flex flex-wrap gap-1">
              <Badge tone="slate">{SNAPSHOT_POLICY_LABELS[u.snapshot]}</Badge>
              <Badge tone="slate">keep {u.keep}</Badge>
              {u.restoreOnRollback ? <Badge tone="blue">restore on rollback</Badge> : null}
              {u.service ? <Badge tone="slate">{u.service}</Badge> : null}
            </div>
          </li>
        ))}
      </ul>
      {editable && !draft ? (
        <Button variant="secondary" onClick={() => setDraft(EMPTY)}>
          Add a state unit
        </Button>
      ) : null}
      {draft ? (
        <div className="space-y-2 rounded-md p-3 ring-1 ring-slate-200 dark:ring-slate-800">
          <Select aria-label="Kind" value={draft.kind} onChange={(e) => set({ kind: e.target.value as TStateKind })}>
            {STATE_KINDS.map((k) => (
              <option key={k} value={k}>
                {KIND_LABELS[k]}
              </option>
            ))}
          </Select>
          <Input aria-label="Unit name" placeholder="Name, e.g. app-db" value={draft.name} onChange={(e) => set({ name: e.target.value })} />
          {draft.kind === 'directory' ? (
            <Input aria-label="Path" placeholder="/var/lib/app" value={draft.path} onChange={(e) => set({ path: e.target.value })} />
          ) : (
            <>
              <Input aria-label="Database" placeholder="Database name" value={draft.database} onChange={(e) => set({ database: e.target.value })} />
              <div className="grid grid-cols-3 gap-2">
                <Input aria-label="Host" placeholder="Host or socket dir" value={draft.host} onChange={(e) => set({ host: e.target.value })} />
                <Input aria-label="Port" placeholder="Port" inputMode="numeric" value={draft.port} onChange={(e) => set({ port: e.target.value })} />
                <Input aria-label="User" placeholder="User" value={draft.user} onChange={(e) => set({ user: e.target.value })} />
              </div>
            </>
          )}
          <Select aria-label="Snapshot policy" value={draft.snapshot} onChange={(e) => set({ snapshot: e.target.value })}>
            {SNAPSHOT_POLICIES.map((p) => (
              <option key={p} value={p}>
                {SNAPSHOT_POLICY_LABELS[p]}
              </option>
            ))}
          </Select>
          <div className="grid grid-cols-2 gap-2">
            <Input aria-label="Snapshots kept" type="number" min={1} max={30} value={draft.keep} onChange={(e) => set({ keep: e.target.value })} />
            <Input aria-label="Service" placeholder="app.service (optional)" value={draft.service} onChange={(e) => set({ service: e.target.value })} />
          </div>
          <label className="flex items-center gap-2">
            <input type="checkbox" checked={draft.restoreOnRollback} onChange={(e) => set({ restoreOnRollback: e.target.checked })} />
            Restore the pre-switch snapshot when the switch is rolled back
          </label>
          {error ? (
            <p role="alert" className="text-xs text-red-600 dark:text-red-400">
              {error}
            </p>
          ) : null}
          <div className="flex gap-2">
            <Button onClick={add}>Add</Button>
            <Button
              variant="secondary"
              onClick={() => {
                setDraft(null);
                setError(undefined);
              }}
            >
              Cancel
            </Button>
          </div>
          <p className="text-xs text-slate-500">Saved with the configuration. Hosts with state units import the Flotilla agent module, which declares the option.</p>
        </div>
      ) : null}
    </div>
  );
}
