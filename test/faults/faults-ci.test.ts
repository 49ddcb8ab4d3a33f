// The fault suite's short subset, in every test run: 3 real agents, two server processes
// and a worker behind fault proxies; a server killed mid-switch, an agent killed
// mid-switch, a link blackholed past the confirm timeout, and a slow lossy network.
// Every row must show no double activation, nothing lost or stuck, no wrong final state.
import { describe, expect, it } from 'vitest';
import { failed, table } from './scenarios';
import { runSuite } from './suite';

describe('fault suite (CI subset)', () => {
  it('survives a killed server, a killed agent, a cut link and a lossy network', { timeout: 600_000 }, async () => {
    const rows = await runSuite('ci');
    console.log(`\n${table(rows)}\n`);
    expect(rows.filter(failed), table(rows)).toEqual([]);
  });
});
