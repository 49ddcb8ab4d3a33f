import { Badge } from '@/components/ui/card';

export function HostStatusBadge({ status }: { status: 'online' | 'offline' | 'never-seen' }) {
  if (status === 'online') return <Badge tone="green">online</Badge>;
  if (status === 'offline') return <Badge tone="red">offline</Badge>;
  return <Badge>never seen</Badge>;
}

export function relativeTime(iso: string | null, now = Date.now()): string {
  if (!iso) return 'never';
  const seconds = Math.round((now - new Date(iso).getTime()) / 1000);
  if (seconds < 60) return 'just now';
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}
