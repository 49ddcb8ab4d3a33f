import { Badge } from '@/components/ui/card';

export function BuildStatusBadge({ status }: { status: string }) {
  const tone = status === 'succeeded' ? 'green' : status === 'failed' ? 'red' : status === 'running' ? 'blue' : status === 'queued' ? 'amber' : 'slate';
  return <Badge tone={tone}>{status}</Badge>;
}

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return '—';
  const sign = bytes < 0 ? '−' : '';
  let n = Math.abs(bytes);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${sign}${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}
