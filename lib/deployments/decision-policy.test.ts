import { describe, expect, it } from 'vitest';
import type { TCheckItem } from '@/lib/agents/protocol';
import { ZDecisionPolicy } from '@/lib/db/json-types';
import { policyChoices } from './decision-policy';

const item = (id: string, resolutions: string[], level: TCheckItem['level'] = 'error'): TCheckItem => ({
  id,
  check: id.split(':')[0] ?? id,
  level,
  message: id,
  resolutions: resolutions.map((r) => ({ id: r, label: r })),
});

describe('decision policy', () => {
  const items = [item('migrate:schema', ['run-migration', 'skip', 'abort']), item('flotilla:snapshot-space', ['skip-snapshots', 'abort']), item('info:x', [], 'warning')];

  it('decides every error item by its most specific applicable rule', () => {
    expect(policyChoices({ '*': 'abort', 'migrate:*': 'run-migration', 'flotilla:snapshot-space': 'skip-snapshots' }, items)).toEqual({
      'migrate:schema': 'run-migration',
      'flotilla:snapshot-space': 'skip-snapshots',
    });
    expect(policyChoices({ '*': 'abort' }, items)).toEqual({ 'migrate:schema': 'abort', 'flotilla:snapshot-space': 'abort' });
  });

  it('leaves the decision to a person when any error item has no rule, or only rules naming resolutions it lacks', () => {
    expect(policyChoices({ 'migrate:*': 'run-migration' }, items)).toBeNull();
    expect(policyChoices({ 'migrate:*': 'run-migration', 'flotilla:*': 'run-migration' }, items)).toBeNull();
    expect(policyChoices({}, items)).toBeNull();
  });

  it('takes dots in ids literally and refuses patterns with other characters', () => {
    expect(policyChoices({ 'a.b': 'x' }, [item('aXb', ['x'])])).toBeNull();
    expect(ZDecisionPolicy.safeParse({ 'migrate:(.*)': 'x' }).success).toBe(false);
  });
});
