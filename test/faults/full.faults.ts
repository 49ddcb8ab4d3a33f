// `npm run faults`: every scenario with 10 real agents. Prints the table as rows land and
// at the end; fails (non-zero exit) unless every row shows zero double activations, lost
// or stuck targets and wrong final states. Pending rows (a contract not in the tree yet)
// are printed, not counted.
import { describe, expect, it } from 'vitest';
import { failed, table } from './scenarios';
import { runSuite } from './suite';

describe('fault suite (full)', () => {
  it('every scenario converges with nothing doubled, lost or wrong', { timeout: 60 * 60_000 }, async () => {
    const rows = await runSuite('full', (so) => console.log(`\n${table(so)}\n`));
    console.log(`\n${table(rows)}\n`);
    expect(rows.filter(failed), table(rows)).toEqual([]);
  });
});
