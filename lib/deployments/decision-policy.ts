// A deployment's decision policy (DESIGN.md §10: "a person picks one, or the policy does"):
// check item id or pattern → resolution id, e.g. `{"flotilla:snapshot-space": "skip-snapshots",
// "migrate:*": "run-migration", "*": "abort"}`. When a blocked target's every error item has
// an applicable rule, the server decides at once; otherwise a person does. Browser-safe.
import type { TCheckItem } from '@/lib/agents/protocol';
import type { TDecisionPolicy } from '@/lib/db/json-types';

const matches = (pattern: string, id: string) =>
  pattern === id || (pattern.includes('*') && new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(id));

/** Exact ids first, then patterns with more fixed characters: the most specific rule wins. */
const specificity = (pattern: string) => (pattern.includes('*') ? pattern.replaceAll('*', '').length : Number.MAX_SAFE_INTEGER);

/** The policy's choice for every error item, or null when any of them needs a person. */
export function policyChoices(policy: TDecisionPolicy, items: TCheckItem[]): Record<string, string> | null {
  const rules = Object.entries(policy).sort(([a], [b]) => specificity(b) - specificity(a));
  const choices: Record<string, string> = {};
  for (const item of items.filter((i) => i.level === 'error')) {
    const rule = rules.find(([pattern, resolution]) => matches(pattern, item.id) && item.resolutions.some((r) => r.id === resolution));
    if (!rule) return null;
    choices[item.id] = rule[1];
  }
  return Object.keys(choices).length ? choices : null;
}
