// Words for requests, shared by the server pages and their live client parts, so a
// request reads the same before and after the first live update.
import type { RequestStatus } from '@/lib/db/enums';
import type { TRequestView } from '@/lib/requests/schemas';

/** "Install hello", "Remove git", "Change: …" in a few words. */
export function describeRequest(r: Pick<TRequestView, 'kind' | 'package' | 'text'>): string {
  if (r.kind === 'install') return `Install ${r.package}`;
  if (r.kind === 'remove') return `Remove ${r.package}`;
  return `Change: ${shortenAtWord((r.text ?? '').replace(/\s+/g, ' ').trim(), 60)}`;
}

/**
 * At most `max` characters, cut after the last whole word that fits, with "…": a title cut
 * mid-word ("so that it prin…") reads as a typo. A single word longer than half of `max` is cut.
 */
export function shortenAtWord(text: string, max: number): string {
  if (text.length <= max) return text;
  const head = text.slice(0, max - 1);
  // The character after the head ends a word too when it is a space.
  const space = text[max - 1] === ' ' ? head.length : head.lastIndexOf(' ');
  const words = space > max / 2 ? head.slice(0, space) : head;
  return `${words.replace(/[\s,;:.-]+$/, '')}…`;
}

export const STATUS_LABELS: Record<RequestStatus, string> = {
  submitted: 'waiting for review',
  approved: 'approved',
  building: 'building',
  deploying: 'deploying',
  live: 'live',
  failed: 'failed',
  denied: 'denied',
  withdrawn: 'withdrawn',
};



/** "42 s", "5 min", "3 h 10 min", "2 d 4 h": how long something took, for people. */
export function formatSpan(seconds: number | null): string {
  if (seconds === null) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.round((s % 86_400) / 3600)} h`;
}

/** Times in UTC, on the server and the client alike (no hydration mismatch). */
export function formatTime(iso: string): string {
  return `${iso.slice(0, 16).replace('T', ' ')} UTC`;
}

/** "deploying" says little while the agent works: its phase says more ("activating"; the stepper adds the ellipsis). */
export function phaseLabel(phase: string | null): string | null {
  if (!phase) return null;
  const words: Record<string, string> = {
    pending: 'waiting for its turn',
    sent: 'sent to the machine',
    downloading: 'downloading',
    activating: 'activating',
    confirming: 'confirming',
    'needs-decision': 'waiting for IT to decide',
    succeeded: 'done',
  };
  return words[phase] ?? phase;
}
