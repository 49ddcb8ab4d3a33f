// Words for alert rules, for the settings page and its form alike (no server code here:
// the form is a client component).
import type { TAlertRule } from '@/lib/health/alerts';

type Kind = TAlertRule['kind'];

export const KINDS: Record<Kind, { label: string; threshold?: { label: string; unit: string; hint: string; placeholder: string } }> = {
  'host-offline': { label: 'Host offline', threshold: { label: 'Minutes offline', unit: 'min', hint: 'Fires once a host has been unreachable this long.', placeholder: '15' } },
  'deployment-failed': { label: 'Deployment failed' },
  'disk-low': { label: 'Low disk on the Nix store', threshold: { label: 'Free space below (MiB)', unit: 'MiB', hint: 'Fires when the store has less free space than this (5120 MiB = 5 GiB).', placeholder: '5120' } },
  'units-failed': { label: 'Failed systemd units' },
};

/** "Offline for more than 15 min", "Last deployment failed or rolled back", … */
export function describeCondition(kind: Kind, threshold: number): string {
  switch (kind) {
    case 'host-offline':
      return `Offline for more than ${threshold} min`;
    case 'deployment-failed':
      return 'Last deployment failed or rolled back';
    case 'disk-low':
      return `Under ${threshold} MiB free on the Nix store`;
    case 'units-failed':
      return 'One or more systemd units failed';
  }
}
