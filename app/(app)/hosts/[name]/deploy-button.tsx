'use client';

import { useRouter } from 'next/navigation';
import { deployAction } from '@/app/(app)/deployments/actions';
import { ActionButton } from '@/components/ui/action-button';

export function DeployButton({ host, storePath }: { host: string; storePath: string }) {
  const router = useRouter();
  return (
    <ActionButton
      variant="secondary"
      size="md"
      busyLabel="Starting…"
      confirm={`Deploy ${storePath.slice(44)} to ${host}? The agent switches to it and rolls back by itself if it fails.`}
      run={() => deployAction(null, { host, storePath })}
      onDone={(data) => router.push(`/deployments/${data.id}`)}
    >
      Deploy
    </ActionButton>
  );
}
