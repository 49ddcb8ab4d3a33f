'use client';

import { useRouter } from 'next/navigation';
import { NixDiff } from '@/components/editor/nix-diff';
import { ActionButton } from '@/components/ui/action-button';
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
  return (
    <ActionButton
      run={() => revertConfigAction(null, { host, toVersion, baseVersion })}
      onDone={(data) => {
        router.push(`/hosts/${host}/history?a=${baseVersion}&b=${data.version}`);
        router.refresh();
      }}
    >
      Revert to v{toVersion}
    </ActionButton>
  );
}
