'use client';

// The host page's status line, kept live from the host's event stream; a change
// also refreshes the server-rendered parts (systems, activations).
import { useRouter } from 'next/navigation';
import { useEffect, useRef, useState } from 'react';
import { HostStatusBadge, relativeTime } from './status-badge';

type Snapshot = { online: boolean; lastSeen: string | null };

export function LiveHostStatus({ host, initial }: { host: string; initial: Snapshot }) {
  const router = useRouter();
  const [state, setState] = useState(initial);
  const [, tick] = useState(0);
  const first = useRef(true);

  useEffect(() => {
    const source = new EventSource(`/api/v1/hosts/${encodeURIComponent(host)}/events`);
    source.addEventListener('host', (e) => {
      setState(JSON.parse((e as MessageEvent).data) as Snapshot);
      // The first snapshot only repeats what the server rendered.
      if (first.current) first.current = false;
      else router.refresh();
    });
    const clock = setInterval(() => tick((n) => n + 1), 15_000);
    return () => {
      source.close();
      clearInterval(clock);
    };
  }, [host, router]);

  const status = state.online ? 'online' : state.lastSeen ? 'offline' : 'never-seen';
  return (
    <span className="flex items-center gap-2" data-testid="host-status">
      <HostStatusBadge status={status} /> last seen {relativeTime(state.lastSeen)}
    </span>
  );
}
