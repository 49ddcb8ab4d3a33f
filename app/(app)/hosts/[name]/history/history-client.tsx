'use client';

import { useRouter } from 'next/navigation';
import { useState, useTransition } from 'react';
import { NixDiff } from '@/components/editor/nix-diff';
import { Button } from '@/components/ui/button';
import type { TConfigVersion } from '@/lib/hosts/schemas';
import { revertConfigAction } from '../../actions';

export function VersionDiff({ a, b }: { a: TConfigVersion; b: TConfigVersion }) {
  const added = b.packages.filter((p) => !a.packages.includes(p));
  const removed = a.packages.filter((p) => !b.packages.includes(p));
  return (
    <div className="space-y-3">
      {a.module === b.module ? <p className="text-sm text-slate-500">The module text is identical.</p> : null}
      <NixDiff original={a.module} modified={b.module} originalLabel={`v${a.version}: ${a.message || 'no message'}`} modifiedLabel={`v${b.version}: ${b.message || 'no message'}`} />
      <p className="text-sm" data-testid="package-diff">
        Packages: {added.length ? <span className="text-emerald-700 dark:text-emerald-400">+ {added.join(', ')}</span> : null}{' '}
        {removed.length ? <span className="text-red-700 dark:text-red-400">− {removed.join(', ')}</span> : null}
        {!added.length && !removed.length ? <span className="text-slate-500">unchanged</span> : null}
      </p>
    </div>
  );
}

export function RevertButton({ host, toVersion, baseVersion }: { host: string; toVersion: number; baseVersion: number }) {
  const router = useRouter();
  const [busy, start] = useTransition();
  const [error, setError] = useState<string>();
  return (
    <span className="inline-flex flex-col items-end">
      <Button
        variant="ghost"
        size="sm"
        disabled={busy}
        onClick={() =>
          start(async () => {
            const r = await revertConfigAction(null, { host, toVersion, baseVersion });
            if (r?.ok) {
              router.push(`/hosts/${host}/history?a=${baseVersion}&b=${r.data.version}`);
              router.refresh();
            } else if (r) setError(r.error.message);
          })
        }
      >
        Revert to v{toVersion}
      </Button>
      {error ? <span className="text-xs text-red-600">{error}</span> : null}
    </span>
  );
}
