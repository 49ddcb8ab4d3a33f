'use client';

// The organisation's package policies as one list, edited here and saved at once
// (setPolicies replaces the list in one audited transaction).
import { useRouter } from 'next/navigation';
import { useState, useTransition } from 'react';
import { actionError } from '@/components/requests/action-error';
import { PackageSearch } from '@/components/requests/package-search';
import { Button } from '@/components/ui/button';
import { EmptyState } from '@/components/ui/card';
import { FormError, Input, Select } from '@/components/ui/form';
import { Table, TBody, Td, Th } from '@/components/ui/table';
import type { TPolicy } from '@/lib/requests/schemas';
import { savePoliciesAction } from './actions';

type Rule = TPolicy['rule'];
const asRule = (value: string): Rule => (value === 'never-allowed' ? 'never-allowed' : 'pre-approved');

export function PolicyEditor({ initial }: { initial: TPolicy[] }) {
  const router = useRouter();
  const [rows, setRows] = useState(initial);
  const [rule, setRule] = useState<Rule>('pre-approved');
  const [error, setError] = useState<string>();
  const [saved, setSaved] = useState(false);
  const [busy, start] = useTransition();
  const dirty = JSON.stringify(rows) !== JSON.stringify(initial);

  const change = (next: TPolicy[]) => {
    setRows(next);
    setSaved(false);
  };
  const update = (pkg: string, patch: Partial<TPolicy>) => change(rows.map((r) => (r.package === pkg ? { ...r, ...patch } : r)));
  const add = (pkg: string) => {
    if (rows.some((r) => r.package === pkg)) return;
    change([...rows, { package: pkg, rule, reason: '' }].sort((a, b) => a.package.localeCompare(b.package)));
  };
  const save = () =>
    start(async () => {
      const result = await savePoliciesAction(null, { policies: rows });
      setError(actionError(result));
      if (result?.ok) {
        setSaved(true);
        router.refresh();
      }
    });

  return (
    <div>
      {rows.length === 0 ? (
        <EmptyState title="No policies yet">Every request waits for a reviewer. Add packages below.</EmptyState>
      ) : (
        <Table>
          <thead>
            <tr>
              <Th>Package</Th>
              <Th>Rule</Th>
              <Th>Reason (shown to employees when refused)</Th>
              <Th />
            </tr>
          </thead>
          <TBody>
            {rows.map((r) => (
              <tr key={r.package} data-testid={`policy-${r.package}`}>
                <Td className="font-mono font-medium">{r.package}</Td>
                <Td>
                  <Select aria-label={`Rule for ${r.package}`} className="w-44 min-w-[11rem]" value={r.rule} onChange={(e) => update(r.package, { rule: asRule(e.target.value) })}>
                    <option value="pre-approved">Pre-approved</option>
                    <option value="never-allowed">Never allowed</option>
                  </Select>
                </Td>
                <Td className="w-full min-w-[18rem]">
                  <Input
                    aria-label={`Reason for ${r.package}`}
                    placeholder={r.rule === 'never-allowed' ? 'e.g. “use the monitoring dashboard instead”' : 'optional'}
                    value={r.reason}
                    maxLength={500}
                    onChange={(e) => update(r.package, { reason: e.target.value })}
                  />
                </Td>
                <Td className="text-right">
                  <Button variant="ghost" size="sm" aria-label={`Remove the policy for ${r.package}`} onClick={() => change(rows.filter((x) => x.package !== r.package))}>
                    Remove
                  </Button>
                </Td>
              </tr>
            ))}
          </TBody>
        </Table>
      )}
      <div className="grid gap-4 border-t border-slate-200 px-5 py-4 md:grid-cols-[12rem_1fr] dark:border-slate-800">
        <label className="space-y-1.5 text-sm">
          <span className="block font-medium text-slate-700 dark:text-slate-300">Add as</span>
          <Select aria-label="Rule for new packages" value={rule} onChange={(e) => setRule(asRule(e.target.value))}>
            <option value="pre-approved">Pre-approved</option>
            <option value="never-allowed">Never allowed</option>
          </Select>
        </label>
        <div className="space-y-1.5 text-sm">
          <span className="block font-medium text-slate-700 dark:text-slate-300">Package</span>
          <PackageSearch selected={null} onSelect={(h) => add(h.attr)} clearOnSelect label="Search packages to add a policy" placeholder="Search the package index" unavailable={Object.fromEntries(rows.map((r) => [r.package, 'has a policy']))} />
        </div>
      </div>
      <div className="flex flex-wrap items-center gap-3 border-t border-slate-200 bg-slate-50 px-5 py-3 dark:border-slate-800 dark:bg-slate-900/60">
        <Button onClick={save} disabled={busy || !dirty}>
          {busy ? 'Saving…' : 'Save policies'}
        </Button>
        {dirty ? (
          <Button variant="ghost" disabled={busy} onClick={() => change(initial)}>
            Discard changes
          </Button>
        ) : null}
        {saved && !dirty ? (
          <span role="status" className="text-sm text-emerald-700 dark:text-emerald-400">
            Saved.
          </span>
        ) : null}
        <FormError message={error} />
      </div>
    </div>
  );
}
