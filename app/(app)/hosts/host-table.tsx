'use client';

import clsx from 'clsx';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useState, useTransition } from 'react';
import { BuildStatusBadge, formatBytes } from '@/components/builds/build-status';
import { statusLabel } from '@/components/deployments/status-label';
import { StartDeploymentDialog } from './start-deployment-dialog';
import { HostStatusBadge, relativeTime } from '@/components/hosts/status-badge';
import { Button } from '@/components/ui/button';
import { Badge } from '@/components/ui/card';
import { Input } from '@/components/ui/form';
import { Table, TBody, Td, Th } from '@/components/ui/table';
import type { THostSortKey, THostSummary } from '@/lib/hosts/schemas';
import { bulkHostsAction } from './actions';

function SortLink({ label, href, active, dir }: { label: string; href: string; active: boolean; dir: 'asc' | 'desc' }) {
  return (
    <Link href={href} className="inline-flex items-center gap-1 hover:text-slate-900 dark:hover:text-white">
      {label}
      {active ? <span aria-hidden>{dir === 'asc' ? '↑' : '↓'}</span> : null}
    </Link>
  );
}

export function HostTable(props: { hosts: THostSummary[]; canWrite: boolean; canDeploy: boolean; lowDiskBytes: number; sort: { by: THostSortKey; dir: 'asc' | 'desc' }; sortHref: Record<THostSortKey, string> }) {
  const router = useRouter();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [value, setValue] = useState('');
  const [message, setMessage] = useState<{ ok: boolean; text: string }>();
  const [pending, start] = useTransition();
  const [deploying, setDeploying] = useState(false);
  const all = props.hosts.length > 0 && props.hosts.every((h) => selected.has(h.name));

  function toggle(name: string) {
    setSelected((prev) => {
      const next = new Set(prev);
      if (next.has(name)) next.delete(name);
      else next.add(name);
      return next;
    });
  }

  function bulk(kind: 'addTags' | 'removeTags' | 'addPackages') {
    const items = value.split(/[\s,]+/).filter(Boolean);
    if (!items.length) return setMessage({ ok: false, text: 'Type one or more tags or packages first' });
    start(async () => {
      const result = await bulkHostsAction(null, { hosts: [...selected], [kind]: items });
      if (result?.ok) {
        setMessage({ ok: true, text: `Changed ${result.data.hosts.length} hosts` });
        setValue('');
        router.refresh();
      } else if (result) setMessage({ ok: false, text: result.error.message });
    });
  }

  return (
    <>
      {props.canWrite && selected.size > 0 ? (
        <div className="flex flex-wrap items-center gap-2 border-b border-slate-200 bg-brand-50/60 px-5 py-3 text-sm dark:border-slate-800 dark:bg-slate-800/40">
          <span className="font-medium">{selected.size} selected</span>
          <Input aria-label="Tags or packages" className="w-56" placeholder="tags or packages, comma-separated" value={value} onChange={(e) => setValue(e.target.value)} />
          <Button size="sm" variant="secondary" disabled={pending} onClick={() => bulk('addTags')}>
            Add tags
          </Button>
          <Button size="sm" variant="secondary" disabled={pending} onClick={() => bulk('removeTags')}>
            Remove tags
          </Button>
          <Button size="sm" variant="secondary" disabled={pending} onClick={() => bulk('addPackages')}>
            Add packages
          </Button>
          {message ? <span className={message.ok ? 'text-emerald-600' : 'text-red-600'}>{message.text}</span> : null}
          {/* Deploying needs its own permission, as startDeploymentAction does. */}
          {props.canDeploy ? (
            <Button size="sm" className="ml-auto" disabled={pending} onClick={() => setDeploying(true)}>
              Deploy…
            </Button>
          ) : null}
        </div>
      ) : null}
      {deploying ? <StartDeploymentDialog hosts={[...selected].sort()} onClose={() => setDeploying(false)} /> : null}
      <Table>
        <thead>
          <tr>
            {props.canWrite ? (
              <Th className="w-8">
                <input
                  type="checkbox"
                  aria-label="Select all"
                  checked={all}
                  onChange={() => setSelected(all ? new Set() : new Set(props.hosts.map((h) => h.name)))}
                />
              </Th>
            ) : null}
            <Th>
              <SortLink label="Name" href={props.sortHref.name} active={props.sort.by === 'name'} dir={props.sort.dir} />
            </Th>
            <Th>Status</Th>
            <Th>Tags</Th>
            <Th className="whitespace-nowrap">
              <SortLink label="Last seen" href={props.sortHref.lastSeen} active={props.sort.by === 'lastSeen'} dir={props.sort.dir} />
            </Th>
            <Th>
              <SortLink label="Agent" href={props.sortHref.agentVersion} active={props.sort.by === 'agentVersion'} dir={props.sort.dir} />
            </Th>
            <Th className="whitespace-nowrap text-right">
              <SortLink label="Store free" href={props.sortHref.storeFree} active={props.sort.by === 'storeFree'} dir={props.sort.dir} />
            </Th>
            <Th className="whitespace-nowrap text-right">Failed units</Th>
            <Th>Config</Th>
          </tr>
        </thead>
        <TBody>
          {props.hosts.map((h) => (
            <tr key={h.name} data-testid={`host-row-${h.name}`} className="hover:bg-slate-50 dark:hover:bg-slate-800/40">
              {props.canWrite ? (
                <Td>
                  <input type="checkbox" aria-label={`Select ${h.name}`} checked={selected.has(h.name)} onChange={() => toggle(h.name)} />
                </Td>
              ) : null}
              <Td className="font-medium">
                <Link href={`/hosts/${h.name}`} className="hover:text-brand-600 hover:underline">
                  {h.name}
                </Link>
              </Td>
              <Td>
                <span className="flex gap-1">
                  <HostStatusBadge status={h.status} />
                  {h.drifted ? <Badge tone="amber">drifted</Badge> : null}
                  {h.lastDeployPhase === 'failed' || h.lastDeployPhase === 'rolled-back' ? <Badge tone="red">deploy {statusLabel(h.lastDeployPhase)}</Badge> : null}
                  {h.needsReboot ? <Badge tone="blue">reboot</Badge> : null}
                </span>
              </Td>
              <Td className="whitespace-normal">
                <span className="flex flex-wrap gap-1">
                  {h.tags.map((t) => (
                    <Badge key={t}>{t}</Badge>
                  ))}
                </span>
              </Td>
              {/* Connected now: its last write may be minutes old (heartbeats are written only when they say something new). */}
              <Td className="text-slate-500">{h.online ? 'now' : relativeTime(h.lastSeen)}</Td>
              <Td className="text-slate-500">{h.agentVersion ?? (h.enrolled ? 'enrolled' : 'not enrolled')}</Td>
              <Td className={clsx('text-right tabular-nums', h.storeFreeBytes !== null && h.storeFreeBytes < props.lowDiskBytes ? 'font-medium text-amber-700 dark:text-amber-400' : 'text-slate-500')}>
                {formatBytes(h.storeFreeBytes)}
              </Td>
              <Td className="text-right tabular-nums">
                {h.failedUnits.length ? (
                  <span title={h.failedUnits.join(', ')} className="font-medium text-red-600 dark:text-red-400">
                    {h.failedUnits.length}
                  </span>
                ) : (
                  <span className="text-slate-400">0</span>
                )}
              </Td>
              <Td className="text-slate-500">
                <span className="flex items-center gap-1.5">
                  {h.configVersion ? `v${h.configVersion}` : '—'}
                  {h.lastBuild ? <BuildStatusBadge status={h.lastBuild} /> : null}
                </span>
              </Td>
            </tr>
          ))}
        </TBody>
      </Table>
    </>
  );
}
