'use client';

// The requests as a table. Reviewers select waiting requests and approve them in one
// go, typically the same package asked for on several machines.
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useState, useTransition, type ReactNode } from 'react';
import { describeRequest } from '@/components/requests/format';
import { RequestStatusBadge } from '@/components/requests/request-status-badge';
import { actionError } from '@/components/requests/action-error';
import { Button } from '@/components/ui/button';
import { Table, TBody, Td, Th } from '@/components/ui/table';
import type { TRequestView } from '@/lib/requests/schemas';
import { approveManyAction } from './actions';

export type RequestRow = Pick<TRequestView, 'id' | 'host' | 'kind' | 'package' | 'text' | 'reason' | 'status' | 'requester'> & { age: string };

type Outcome = { ok: boolean; text: string; failures: Record<string, string> };

function useBatchApprove(onDone: () => void) {
  const [outcome, setOutcome] = useState<Outcome>();
  const [busy, start] = useTransition();
  const approve = (ids: string[]) =>
    start(async () => {
      const result = await approveManyAction(null, { ids });
      if (!result?.ok) return setOutcome({ ok: false, text: actionError(result) ?? 'Failed', failures: {} });
      const failed = result.data.results.filter((r) => r.error);
      setOutcome({
        ok: failed.length === 0,
        text: `Approved ${ids.length - failed.length} of ${ids.length}${failed.length ? `; ${failed.length} could not be approved (see the rows)` : ''}`,
        failures: Object.fromEntries(failed.map((r) => [r.id, r.error ?? 'failed'])),
      });
      onDone();
    });
  return { outcome, busy, approve };
}

/** Packages asked for on several machines among the waiting requests: the usual batch. */
function repeatedPackages(waiting: RequestRow[]) {
  const byPackage = new Map<string, string[]>();
  for (const r of waiting) if (r.kind === 'install' && r.package) byPackage.set(r.package, [...(byPackage.get(r.package) ?? []), r.id]);
  return [...byPackage].filter(([, ids]) => ids.length > 1);
}

export function RequestTable({ rows, reviewer, showRequester, empty }: { rows: RequestRow[]; reviewer: boolean; showRequester: boolean; empty: ReactNode }) {
  const router = useRouter();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const waiting = rows.filter((r) => r.status === 'submitted');
  const chosen = waiting.filter((r) => selected.has(r.id)).map((r) => r.id);
  const { outcome, busy, approve } = useBatchApprove(() => {
    setSelected(new Set());
    router.refresh();
  });
  const toggle = (id: string, on: boolean) =>
    setSelected((prev) => {
      const next = new Set(prev);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });
  const allChosen = waiting.length > 0 && chosen.length === waiting.length;
  const repeated = reviewer ? repeatedPackages(waiting) : [];

  return (
    <>
      {reviewer && (chosen.length > 0 || outcome || repeated.length > 0) ? (
        <div className="flex flex-wrap items-center gap-3 border-b border-slate-200 bg-brand-50/60 px-5 py-3 text-sm dark:border-slate-800 dark:bg-slate-800/40" data-testid="batch-bar">
          {chosen.length === 0
            ? repeated.map(([pkg, ids]) => (
                <Button key={pkg} size="sm" variant="secondary" onClick={() => setSelected(new Set(ids))}>
                  Select the {ids.length} requests for {pkg}
                </Button>
              ))
            : null}
          {chosen.length > 0 ? (
            <>
              <span className="font-medium">{chosen.length} selected</span>
              <Button size="sm" disabled={busy} onClick={() => approve(chosen)}>
                {busy ? 'Approving…' : `Approve selected (${chosen.length})`}
              </Button>
            </>
          ) : null}
          {outcome ? (
            <span role="status" className={outcome.ok ? 'text-emerald-700 dark:text-emerald-400' : 'text-red-700 dark:text-red-400'}>
              {outcome.text}
            </span>
          ) : null}
        </div>
      ) : null}
      {rows.length === 0 ? (
        empty
      ) : (
        <Table>
          <thead>
            <tr>
              {reviewer ? (
                <Th className="w-10 pr-0">
                  <input
                    type="checkbox"
                    aria-label="Select all waiting requests"
                    className="rounded border-slate-300 dark:border-slate-600 dark:bg-slate-800"
                    disabled={waiting.length === 0}
                    checked={allChosen}
                    onChange={(e) => setSelected(e.target.checked ? new Set(waiting.map((r) => r.id)) : new Set())}
                  />
                </Th>
              ) : null}
              <Th>What</Th>
              <Th>Machine</Th>
              {showRequester ? <Th>Requester</Th> : null}
              <Th>Reason</Th>
              <Th>Age</Th>
              <Th>Status</Th>
            </tr>
          </thead>
          <TBody>
            {rows.map((r) => (
              <tr key={r.id} data-testid={`request-row-${r.id}`} className={selected.has(r.id) ? 'bg-brand-50/40 dark:bg-slate-800/40' : undefined}>
                {reviewer ? (
                  <Td className="w-10 pr-0">
                    {r.status === 'submitted' ? (
                      <input
                        type="checkbox"
                        aria-label={`Select ${describeRequest(r)} on ${r.host}`}
                        className="rounded border-slate-300 dark:border-slate-600 dark:bg-slate-800"
                        checked={selected.has(r.id)}
                        onChange={(e) => toggle(r.id, e.target.checked)}
                      />
                    ) : null}
                  </Td>
                ) : null}
                <Td className="font-medium">
                  <Link href={`/requests/${r.id}`} className="hover:underline">
                    {describeRequest(r)}
                  </Link>
                  {outcome?.failures[r.id] ? <span className="block text-xs font-normal text-red-600 dark:text-red-400">{outcome.failures[r.id]}</span> : null}
                </Td>
                <Td>{r.host}</Td>
                {showRequester ? (
                  <Td>
                    <span title={r.requester.email}>{r.requester.name || r.requester.email}</span>
                  </Td>
                ) : null}
                <Td className="max-w-[16rem] truncate text-slate-600 dark:text-slate-300">
                  <span title={r.reason}>{r.reason}</span>
                </Td>
                <Td className="text-slate-500 dark:text-slate-400">{r.age}</Td>
                <Td>
                  <RequestStatusBadge status={r.status} />
                </Td>
              </tr>
            ))}
          </TBody>
        </Table>
      )}
    </>
  );
}
