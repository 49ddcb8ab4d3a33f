import { describe, expect, it } from 'vitest';
import { progressSegments } from './progress-bar';

const filled = (counts: Parameters<typeof progressSegments>[0], total: number) => progressSegments(counts, total).reduce((n, s) => n + s.percent, 0);

describe('progressSegments', () => {
  it('is not full while the only host is still in flight', () => {
    for (const phase of ['sent', 'downloading', 'activating', 'confirming', 'needs-decision'] as const) {
      const share = filled({ [phase]: 1 }, 1);
      expect(share, phase).toBeGreaterThan(0);
      expect(share, phase).toBeLessThan(100);
    }
  });

  it('fills further as a host moves along its phases', () => {
    const order = ['sent', 'downloading', 'activating', 'confirming'] as const;
    const shares = order.map((p) => filled({ [p]: 1 }, 1));
    expect(shares).toEqual([...shares].sort((a, b) => a - b));
  });

  it('is full once every host finished, whatever the outcome', () => {
    expect(filled({ succeeded: 2, failed: 1, 'rolled-back': 1, skipped: 1, cancelled: 1 }, 6)).toBeCloseTo(100);
    expect(filled({ succeeded: 1, activating: 1 }, 2)).toBeLessThan(100);
  });

  it('leaves waiting hosts empty', () => {
    expect(filled({ pending: 3 }, 3)).toBe(0);
    expect(progressSegments({ pending: 1, succeeded: 1 }, 2).find((s) => s.key === 'succeeded')).toMatchObject({ hosts: 1, percent: 50 });
  });
});
