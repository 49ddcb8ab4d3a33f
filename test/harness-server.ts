// A second server process for the multi-process tests: the agent-facing parts of
// server.ts on a free port, on the same database. Prints `READY <url>`.
import { startHarness } from './agent-harness';

const harness = await startHarness({ port: process.env.HARNESS_PORT ? Number(process.env.HARNESS_PORT) : undefined });
console.log(`READY ${harness.base}`);
process.once('SIGTERM', () => {
  void harness.close().then(() => process.exit(0));
});
