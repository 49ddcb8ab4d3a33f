'use client';

// Deploy one build to its host through the same dialog as the host list's bulk deploy:
// strategy, wave preview and the decision policy, never a bare browser confirm().
import { useState } from 'react';
import { Button } from '@/components/ui/button';
import { StartDeploymentDialog } from '../start-deployment-dialog';

export function DeployButton({ host, storePath, variant = 'secondary' }: { host: string; storePath: string; variant?: 'primary' | 'secondary' }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button variant={variant} onClick={() => setOpen(true)}>
        Deploy
      </Button>
      {open ? <StartDeploymentDialog hosts={[host]} system={{ storePath }} onClose={() => setOpen(false)} /> : null}
    </>
  );
}
