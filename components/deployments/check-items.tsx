// What a target's pre-switch checks found: one entry per item with its level, the check
// that said it, and its message as written (checks print several lines: keep them). The
// decisions inbox puts its choice of resolution under each error item (`choice`).
import type { ReactNode } from 'react';
import { Badge } from '@/components/ui/card';
import type { TCheckItem } from '@/lib/agents/protocol';

const LEVEL_TONE = { error: 'red', warning: 'amber', info: 'blue' } as const;

export function CheckLevelBadge({ level }: { level: TCheckItem['level'] }) {
  return <Badge tone={LEVEL_TONE[level]}>{level}</Badge>;
}

/** "1 error · 2 warnings", most serious first; levels that did not occur are left out. */
export function countLevels(items: TCheckItem[]): string {
  const words = { error: ['error', 'errors'], warning: ['warning', 'warnings'], info: ['note', 'notes'] } as const;
  return (['error', 'warning', 'info'] as const)
    .map((level) => [level, items.filter((i) => i.level === level).length] as const)
    .filter(([, n]) => n > 0)
    .map(([level, n]) => `${n} ${words[level][n === 1 ? 0 : 1]}`)
    .join(' · ');
}

/** The label of the resolution chosen for an item, or its id when the item does not offer it (any more). */
export function resolutionLabel(item: TCheckItem, id: string): string {
  return item.resolutions.find((r) => r.id === id)?.label ?? id;
}

export function CheckItems({ items, decision, choice }: { items: TCheckItem[]; decision?: Record<string, string> | null; choice?: (item: TCheckItem) => ReactNode }) {
  return (
    <ul className="space-y-3">
      {items.map((item) => {
        const chosen = decision?.[item.id];
        return (
          <li key={item.id} data-testid={`check-item-${item.id}`} data-level={item.level} className="space-y-1.5">
            <div className="flex flex-wrap items-center gap-2">
              <CheckLevelBadge level={item.level} />
              <span className="font-mono text-xs text-slate-500 dark:text-slate-400">{item.id}</span>
            </div>
            <pre className="max-h-64 overflow-auto whitespace-pre-wrap break-words rounded-md bg-slate-50 px-3 py-2 font-mono text-xs text-slate-800 ring-1 ring-inset ring-slate-200 dark:bg-slate-950/60 dark:text-slate-200 dark:ring-slate-800">
              {item.message}
            </pre>
            {chosen ? (
              <p className="text-xs text-slate-600 dark:text-slate-300" data-testid={`chosen-${item.id}`}>
                Chosen: <span className="font-medium">{resolutionLabel(item, chosen)}</span>
              </p>
            ) : null}
            {choice?.(item)}
          </li>
        );
      })}
    </ul>
  );
}
