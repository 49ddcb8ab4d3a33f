'use client';

import { useRouter } from 'next/navigation';
import { useState, useTransition } from 'react';
import { requestBuildAction } from '@/app/(app)/builds/actions';
import { Button } from '@/components/ui/button';

export function BuildButton({ host }: { host: string }) {
  const router = useRouter();
  const [busy, start] = useTransition();
  const [error, setError] = useState<string>();
  return (
    <span className="inline-flex items-center gap-2">
      <Button
        disabled={busy}
        onClick={() =>
          start(async () => {
            const r = await requestBuildAction(null, { host });
            if (r?.ok) router.push(`/builds/${r.data.buildId}`);
            else if (r) setError(r.error.message);
          })
        }
      >
        {busy ? 'Queuing…' : 'Build'}
      </Button>
      {error ? <span className="text-sm text-red-600">{error}</span> : null}
    </span>
  );
}
