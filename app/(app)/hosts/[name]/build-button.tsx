'use client';

import { useRouter } from 'next/navigation';
import { requestBuildAction } from '@/app/(app)/builds/actions';
import { ActionButton } from '@/components/ui/action-button';

export function BuildButton({ host }: { host: string }) {
  const router = useRouter();
  return (
    <ActionButton variant="primary" size="md" busyLabel="Queuing…" run={() => requestBuildAction(null, { host })} onDone={(data) => router.push(`/builds/${data.buildId}`)}>
      Build
    </ActionButton>
  );
}
