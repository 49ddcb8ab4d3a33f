'use client';

// The host page's status line, kept live from the host's event stream; a change
// also refreshes the server-rendered parts (systems, activations).
import { useRouter } from 'next/navigation';
import { useEffect, useRef, useState } from 'react';
import { useEventStream } from '@/components/ui/use-event-stream';
import { ZHostStream } from '@/lib/api/streams';
import { HostStatusBadge, relativeTime } from './status-badge';

type Snapshot = { online: boolean; lastSeen: string | null };

export function LiveHostStatus({ host, initial }: { host: string; initial: Snapshot }) {
  const router = useRouter();
  const [state, setState] = useState(initial);
  const [, tick] = useState(0);
  const first = useRef(true);

  useEventStream(`/api/v1/hosts/${encodeURIComponent(host)}/events`, ZHostStream, (e) => {
    if (e.event !== 'host') return;
    setState(e.data);
    // The first snapshot only repeats what the server rendered.
    if (first.current) first.current = false;
    else router.refresh();
  });
  useEffect(() => {
    const clock = setInterval(() => tick((n) => n + 1), 15_000);
    return () => clearInterval(clock);
  }, []);

  const status = state.online ? 'online' : state.lastSeen ? 'offline' : 'never-seen';
  return (
    <span className="flex items-center gap-2" data-testid="host-status">
      <HostStatusBadge status={status} />
      {state.online ? 'connected now' : `last seen ${relativeTime(state.lastSeen)}`}
    </span>
  );
}
