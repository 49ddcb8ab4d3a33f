'use client';

// One of my machines: is it on, is it up to date, what is installed, and the way to
// ask for more (or less).
import Link from 'next/link';
import { useState } from 'react';
import { HostStatusBadge } from '@/components/hosts/status-badge';
import { describeRequest } from '@/components/requests/format';
import { RequestStatusBadge } from '@/components/requests/request-status-badge';
import { Button } from '@/components/ui/button';
import { Badge, Card } from '@/components/ui/card';
import { Input } from '@/components/ui/form';
import type { TRequestView } from '@/lib/requests/schemas';
import { RequestDialog, type DialogMode } from './request-dialog';

export type Machine = {
  name: string;
  presence: 'online' | 'offline' | 'never-seen';
  state: 'up-to-date' | 'update-pending' | 'needs-reboot' | 'not-deployed';
  lastSeen: string;
  /** Null when Flotilla did not build the system it runs (nothing known about its closure). */
  packages: { attr: string; version: string; description: string }[] | null;
  /** The packages Flotilla's config installs: only these can be asked to be removed. */
  removable: string[];
  deployOnly: boolean;
  openRequests: Pick<TRequestView, 'id' | 'kind' | 'package' | 'text' | 'status'>[];
};

const STATES: Record<Machine['state'], { label: string; tone: 'green' | 'amber' | 'blue' | 'slate' }> = {
  'up-to-date': { label: 'up to date', tone: 'green' },
  'update-pending': { label: 'update pending', tone: 'blue' },
  'needs-reboot': { label: 'needs reboot', tone: 'amber' },
  'not-deployed': { label: 'not deployed yet', tone: 'slate' },
};

/** Long lists get a filter box; short ones do not need one. */
const FILTER_FROM = 8;

function InstalledPackages({ machine, onRemove }: { machine: Machine; onRemove: (pkg: string) => void }) {
  const [filter, setFilter] = useState('');
  if (machine.packages === null) return <p className="text-sm text-slate-500 dark:text-slate-400">Not known yet: the system it runs was not built by Flotilla.</p>;
  if (machine.packages.length === 0) return <p className="text-sm text-slate-500 dark:text-slate-400">{machine.state === 'not-deployed' ? 'Nothing installed by Flotilla yet.' : 'No packages from the index.'}</p>;
  const q = filter.trim().toLowerCase();
  const shown = q ? machine.packages.filter((p) => p.attr.toLowerCase().includes(q) || p.description.toLowerCase().includes(q)) : machine.packages;
  return (
    <div className="space-y-2">
      {machine.packages.length >= FILTER_FROM ? <Input type="search" aria-label={`Filter installed packages on ${machine.name}`} placeholder={`Filter ${machine.packages.length} packages`} value={filter} onChange={(e) => setFilter(e.target.value)} /> : null}
      <ul className="max-h-[30rem] divide-y divide-slate-100 overflow-auto dark:divide-slate-800" aria-label={`Installed on ${machine.name}`} data-testid={`installed-${machine.name}`}>
        {shown.map((p) => (
          <li key={p.attr} className="flex items-start gap-3 py-2" data-package={p.attr}>
            <div className="min-w-0 flex-1">
              <p className="text-sm">
                <span className="font-mono font-medium">{p.attr}</span> <span className="text-xs text-slate-500 dark:text-slate-400">{p.version}</span>
              </p>
              <p className="truncate text-xs text-slate-500 dark:text-slate-400" title={p.description}>
                {p.description || 'No description'}
              </p>
            </div>
            {machine.removable.includes(p.attr) ? (
              <Button variant="ghost" size="sm" onClick={() => onRemove(p.attr)} aria-label={`Remove ${p.attr}`}>
                Remove
              </Button>
            ) : null}
          </li>
        ))}
        {shown.length === 0 ? <li className="py-2 text-sm text-slate-500">No installed package matches.</li> : null}
      </ul>
    </div>
  );
}

/** What the dialog should not offer to install, and why. */
function unavailable(machine: Machine): Record<string, string> {
  const out: Record<string, string> = Object.fromEntries(machine.removable.map((p) => [p, 'already in its configuration']));
  for (const p of machine.packages ?? []) out[p.attr] = 'installed';
  return out;
}

export function MachineCard({ machine }: { machine: Machine }) {
  const [dialog, setDialog] = useState<DialogMode | null>(null);
  const state = STATES[machine.state];
  return (
    <div data-testid={`machine-${machine.name}`}>
      <Card className="flex h-full flex-col">
        <div className="flex flex-wrap items-start justify-between gap-3 border-b border-slate-200 px-5 py-4 dark:border-slate-800">
          <div className="space-y-1.5">
            <h2 className="text-base font-semibold">{machine.name}</h2>
            <div className="flex flex-wrap items-center gap-2 text-xs text-slate-500 dark:text-slate-400">
              <span data-testid="machine-presence">
                <HostStatusBadge status={machine.presence} />
              </span>
              <span data-testid="machine-state">
                <Badge tone={state.tone}>{state.label}</Badge>
              </span>
              <span>{machine.presence === 'online' ? 'connected now' : `last seen ${machine.lastSeen}`}</span>
            </div>
          </div>
          {machine.deployOnly ? (
            // Its system is built by IT's CI, not from a config here: a request would have nothing to change.
            <p className="max-w-56 text-xs text-slate-500 dark:text-slate-400">Managed from IT&apos;s own build pipeline: ask IT for changes to this machine.</p>
          ) : (
            <Button onClick={() => setDialog({ kind: 'install' })}>Request software</Button>
          )}
        </div>
        {machine.openRequests.length ? (
          <div className="border-b border-slate-200 bg-slate-50/70 px-5 py-3 dark:border-slate-800 dark:bg-slate-950/30">
            <p className="text-xs font-medium uppercase tracking-wide text-slate-500 dark:text-slate-400">Your open requests</p>
            <ul className="mt-1.5 space-y-1">
              {machine.openRequests.map((r) => (
                <li key={r.id} className="flex items-center justify-between gap-3 text-sm">
                  <Link href={`/requests/${r.id}`} className="truncate hover:underline">
                    {describeRequest(r)}
                  </Link>
                  <RequestStatusBadge status={r.status} />
                </li>
              ))}
            </ul>
          </div>
        ) : null}
        <div className="flex-1 px-5 py-4">
          <p className="mb-2 text-xs font-medium uppercase tracking-wide text-slate-500 dark:text-slate-400">Installed software</p>
          <InstalledPackages machine={machine} onRemove={(pkg) => setDialog({ kind: 'remove', package: pkg })} />
        </div>
        {dialog ? <RequestDialog host={machine.name} unavailable={unavailable(machine)} mode={dialog} onClose={() => setDialog(null)} /> : null}
      </Card>
    </div>
  );
}
