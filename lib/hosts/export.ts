// The host list as CSV: every host matching the list's filters (not one page), streamed
// in chunks so a 10,000-host export never sits in memory as one string.
import type { Caller } from '@/lib/auth/caller';
import { listHosts } from './inventory';
import type { THostListQuery, THostSummary } from './schemas';

const COLUMNS: [string, (h: THostSummary) => string | number | boolean | null][] = [
  ['name', (h) => h.name],
  ['status', (h) => h.status],
  ['tags', (h) => h.tags.join(' ')],
  ['last_seen', (h) => h.lastSeen],
  ['drifted', (h) => h.drifted],
  ['needs_reboot', (h) => h.needsReboot],
  ['last_deployment', (h) => h.lastDeployPhase],
  ['agent_version', (h) => h.agentVersion],
  ['nixos_version', (h) => h.nixosVersion],
  ['store_free_bytes', (h) => h.storeFreeBytes],
  ['failed_units', (h) => h.failedUnits.join(' ')],
  ['current_system', (h) => h.currentSystem],
  ['desired_system', (h) => h.desiredSystem],
];

/** RFC 4180 quoting; a leading =, +, - or @ is neutralised so a spreadsheet never runs it as a formula. */
export function csvField(value: string | number | boolean | null): string {
  if (value === null) return '';
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function hostsCsv(caller: Caller, query: THostListQuery): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let page = 1;
  return new ReadableStream({
    start(controller) {
      controller.enqueue(encoder.encode(`${COLUMNS.map(([name]) => name).join(',')}\r\n`));
    },
    async pull(controller) {
      const result = await listHosts(caller, { ...query, page, pageSize: 1000 });
      if (result.hosts.length) controller.enqueue(encoder.encode(result.hosts.map((h) => `${COLUMNS.map(([, get]) => csvField(get(h))).join(',')}\r\n`).join('')));
      if (result.hosts.length < 1000) controller.close();
      page += 1;
    },
  });
}
